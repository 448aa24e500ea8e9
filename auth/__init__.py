"""Who is calling and what they may see: Principal, tokens, passwords, the field
policy table and the row scopes."""
