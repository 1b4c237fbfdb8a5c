"""Activities a unit publishes (活动发布与报名): publishing, sign-ups with a wait-list, team
call-ups, attendance at each session and the no-show timer."""
