"""Pushing messages to users: WeChat subscription messages counted against each user's
quota, SMS for urgent messages without one, each user's opt-outs and quiet hours."""
