"""Analysis: stillness, presence, baseline, hinge reps and faults, sway, reports."""
