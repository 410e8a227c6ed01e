"""Rate limits and quotas: how many calls a namespace or a principal may make, and how many long polls wait at once."""
