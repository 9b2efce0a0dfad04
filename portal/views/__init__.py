"""Web pages, one module per part of the site. Thin: reads through provisioning.selectors,
writes through provisioning.services."""
