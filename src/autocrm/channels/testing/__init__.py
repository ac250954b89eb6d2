"""Local stand-ins for the providers, started by the tests on loopback (port 0: any free port):
the SMS fakes (:mod:`.servers`), WeChat/WeCom (:mod:`.wechat_servers`) and SMTP (:mod:`.smtp`).
Shared by the channel clients' tests and the outbox's; imported by tests only."""
