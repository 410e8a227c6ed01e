from cadenza.cli.main import main

raise SystemExit(main())
