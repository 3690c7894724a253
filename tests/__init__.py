"""govaudit's tests.

Nothing in a test may reach a real resolver. `govaudit run` has a dns step, on by default,
that asks the system's resolver (/etc/resolv.conf) unless `dns_nameservers` says otherwise:
every test process (and the `govaudit` processes tests start, which inherit the environment)
is given a nameserver on 127.0.0.1 port 9 instead, where nothing answers, and a timeout of
one second (the step stores "couldn't check" for each domain). The variables win over a
config file, so a test that wants DNS answers removes them from the environment of the run
it starts and names tests/dns_server.py's server (tests/test_dns_job.py).
"""

import os

os.environ.setdefault("GOVAUDIT_DNS_NAMESERVERS", "127.0.0.1:9")
os.environ.setdefault("GOVAUDIT_DNS_TIMEOUT", "1")

# pytest-xdist gives its workers COLUMNS=80; govaudit's tables fit COLUMNS, so the processes
# tests start would print folded tables under `make test` and natural ones run alone. A test
# of the folding sets COLUMNS itself.
os.environ.pop("COLUMNS", None)
