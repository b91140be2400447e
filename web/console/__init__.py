"""The advisers' console, at /conseiller in the web process (README, "Advisers' console").

Zero trust on both sides: the policy service checks the adviser's session on every page
(cookie `oyat_conseiller`, its session token), lists and records the hand-offs, and gives
with each hand-off a grant for its conversation; the Rasa servers read, pause, write to and
resume a conversation only with that grant. The web process holds the console's token
(ADVISER_CONSOLE_TOKEN), never a secret that opens a conversation by itself.

Pages (French, web/console/templates) work without script, forms posted then redirected
(POST-redirect-GET); web/console/static/console.js refreshes the queue every 5 s and the
conversation every 1.5 s and sends messages without reloading the page.
"""

from web.console.routes import install

__all__ = ["install"]
