"""Service records (志愿服务记录) and recognition: attendance, the hours ledger, 评单, stars,
certificates, honour lists and points."""
