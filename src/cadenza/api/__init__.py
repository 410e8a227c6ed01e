"""The api role: gRPC servicers, the only code that imports grpc."""
