"""filterd calling external milters, as Postfix's smtpd does with smtpd_milters: the MTA side of the protocol,
used by the built-in milters plugin at the before-queue stage.

The public names, for that plugin and for plugin authors, who reach this package as `filterd.milter_client`:
SessionMilters (one SMTP session's milters, called in turn), ClientSettings and read_settings(config) (the
milters and macros configured in main.cf), and PARAMETERS (Postfix's milter parameters, with their defaults).
The modules behind them are internal.
"""

from filterd.milter.client.session import SessionMilters
from filterd.milter.client.settings import PARAMETERS, ClientSettings, read_settings

__all__ = ["PARAMETERS", "ClientSettings", "SessionMilters", "read_settings"]
