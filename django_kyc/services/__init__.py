"""Business operations. Views, admin, tasks and commands call these; nothing else writes statuses."""
