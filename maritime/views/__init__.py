"""What people look at: the replay map (folium) and the live operations map (aiohttp) with its static files."""
