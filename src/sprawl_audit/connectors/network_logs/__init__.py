"""network_logs: proxy, firewall and DNS logs (CSV, Squid, W3C) → web sightings."""
