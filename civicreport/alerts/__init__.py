"""Area alerts: subscriptions to a community, street or circle — an Atom feed and e-mail with double opt-in."""
