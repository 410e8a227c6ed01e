"""Worker Deployments: versions registered by their pollers, the routing that sends a task
queue's work to its current or ramping version, kept durably."""
