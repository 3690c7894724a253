"""Command groups beyond inventory (crawl, rdap, audit, export, report, demo)."""
