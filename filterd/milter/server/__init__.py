"""filterd as a milter: the front end that an MTA's smtpd_milters points at. Each milter command becomes the chain
call the SMTP front end makes at the same point, and the chain's verdicts go back as milter responses.

The public names, for filterd's service runner: serve_milter (the listener on a bound socket) and
MilterSettings (its settings from the configuration). The modules behind them are internal.
"""

from filterd.milter.server.listener import serve_milter
from filterd.milter.server.settings import MilterSettings

__all__ = ["MilterSettings", "serve_milter"]
