"""Volunteer teams (志愿服务队) and organisations: registration and verification, membership,
wishes taken as a team, team hours and records, and 万企帮万户 adoptions."""
