"""Context added to alerts (watchlists, vessel profiles, risk); these modules detect nothing themselves."""
