"""The web route: the account's own browser session on TikTok Studio's upload page.

`form` walks the upload form step by step (finding elements through `locate`, read back by
`readback`), `drift` keeps which candidates matched, `publisher` is the route's Publisher (and
its operator hand-off), `probe` walks the page without posting, `session` reaches the
account's stored session and browser profile, `spec` registers it all. Playwright loads
only when a job takes this route.
"""
