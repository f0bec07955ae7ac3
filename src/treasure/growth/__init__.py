"""Growth over messages and users: soak slopes and sweep knees."""
