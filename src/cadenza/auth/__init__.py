"""Who is calling, and what they may do: principals, roles, and the authenticators that find them."""
