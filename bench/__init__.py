"""`make bench`: the portal measured at scale against budgets (issue 8). See bench/run.py."""
