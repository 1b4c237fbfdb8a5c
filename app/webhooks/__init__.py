"""Outgoing webhooks: the service's public events, signed per Standard Webhooks, to the
subscribers admins register (县融媒体中心, 学习强国, 政务服务中心). See docs/webhooks.md."""
