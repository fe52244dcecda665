"""Writes signups.csv, the row-level data of the signup_daily example.

One row per user with the day the user entered the experiment
(`exposure_date`, the look column): seven days of about 1,200 users a day,
split evenly. The treatment converts at 13% against 10%. Deterministic
(seeded); re-run with `python3 generate.py` from this folder.
"""

import datetime
import random

rng = random.Random(23)
START = datetime.date(2026, 11, 9)

with open("signups.csv", "w") as out:
    out.write("user_id,exposure_date,variant,converted,revenue\n")
    user = 0
    for day in range(7):
        date = (START + datetime.timedelta(days=day)).isoformat()
        for _ in range(1100 + rng.randrange(200)):
            variant = "treatment" if rng.random() < 0.5 else "control"
            rate = 0.13 if variant == "treatment" else 0.10
            converted = rng.random() < rate
            revenue = round(rng.gauss(20, 4), 2) if converted else 0
            out.write(f"u{user:05d},{date},{variant},{int(converted)},{revenue}\n")
            user += 1
