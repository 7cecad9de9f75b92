"""Facts about the region used by the default zones and the simulator.

Port positions are the harbour entrances or main terminals (public
knowledge, rounded to about 1 km); authorities are routing labels for
alerts (who is told), by territory.
"""

from __future__ import annotations

from dataclasses import dataclass

#: The region the default zones cover (lon −90…−58, lat 7…28).
REGION = (-90.0, 7.0, -58.0, 28.0)


@dataclass(frozen=True, slots=True)
class Port:
    """A port: name, ISO country, position of the harbour (lat, lon)."""

    name: str
    iso2: str
    lat: float
    lon: float
    size: str = "medium"  # large / medium / small


PORTS: tuple[Port, ...] = (
    Port("San Juan", "PR", 18.462, -66.105, "large"),
    Port("Ponce", "PR", 17.975, -66.615),
    Port("Kingston", "JM", 17.965, -76.800, "large"),
    Port("Montego Bay", "JM", 18.475, -77.930),
    Port("Port of Spain", "TT", 10.650, -61.520, "large"),
    Port("Point Lisas", "TT", 10.400, -61.480),
    Port("Castries", "LC", 14.012, -60.995),
    Port("Vieux Fort", "LC", 13.723, -60.955, "small"),
    Port("Bridgetown", "BB", 13.105, -59.630),
    Port("Willemstad", "CW", 12.105, -68.935, "large"),
    Port("Oranjestad", "AW", 12.515, -70.040),
    Port("Kralendijk", "BQ", 12.150, -68.280, "small"),
    Port("Santo Domingo", "DO", 18.470, -69.880, "large"),
    Port("Rio Haina", "DO", 18.415, -70.020),
    Port("Puerto Plata", "DO", 19.805, -70.690, "small"),
    Port("Nassau", "BS", 25.080, -77.345),
    Port("Freeport", "BS", 26.515, -78.770, "large"),
    Port("Colon", "PA", 9.360, -79.900, "large"),
    Port("Cartagena", "CO", 10.395, -75.540, "large"),
    Port("Santa Marta", "CO", 11.245, -74.220),
    Port("Pointe-a-Pitre", "GP", 16.230, -61.535),
    Port("Fort-de-France", "MQ", 14.600, -61.070),
    Port("St. George's", "GD", 12.050, -61.755),
    Port("Kingstown", "VC", 13.155, -61.230),
    Port("Roseau", "DM", 15.295, -61.390, "small"),
    Port("St. John's", "AG", 17.125, -61.855),
    Port("Basseterre", "KN", 17.295, -62.720, "small"),
    Port("Philipsburg", "SX", 18.015, -63.045),
    Port("Charlotte Amalie", "VI", 18.335, -64.930),
    Port("Road Town", "VG", 18.420, -64.610, "small"),
    Port("George Town", "KY", 19.295, -81.385, "small"),
    Port("Belize City", "BZ", 17.490, -88.185),
    Port("Puerto Cortes", "HN", 15.840, -87.950),
    Port("Puerto Limon", "CR", 10.000, -83.025),
    Port("La Guaira", "VE", 10.610, -66.935),
    Port("Puerto Cabello", "VE", 10.490, -68.010),
    Port("Georgetown", "GY", 6.825, -58.170),
    Port("Havana", "CU", 23.145, -82.345),
    Port("Santiago de Cuba", "CU", 19.995, -75.870),
    Port("Port-au-Prince", "HT", 18.555, -72.350),
    Port("Cap-Haitien", "HT", 19.765, -72.200, "small"),
    Port("Progreso", "MX", 21.300, -89.670),
    Port("Cancun", "MX", 21.160, -86.800, "small"),
    Port("Key West", "US", 24.555, -81.810, "small"),
    Port("Plymouth", "MS", 16.705, -62.215, "small"),
    Port("The Valley", "AI", 18.200, -63.070, "small"),
    Port("Gustavia", "BL", 17.900, -62.855, "small"),
    Port("Marigot", "MF", 18.070, -63.090, "small"),
    Port("Oranjestad (Statia)", "BQ", 17.480, -62.990, "small"),
    Port("Cockburn Town", "TC", 21.460, -71.150, "small"),
)


@dataclass(frozen=True, slots=True)
class Anchorage:
    """A yacht anchorage, mooring field or small-boat harbour: name, ISO country, centre (lat, lon), radius (m)."""

    name: str
    iso2: str
    lat: float
    lon: float
    radius_m: float = 1000.0


#: Where cruising yachts lie at anchor or on moorings, island state by island state: the anchorages the
#: cruising guides and charts of the Eastern and Western Caribbean name (positions are public nautical
#: knowledge, rounded to about 0.005°, about 500 m; the radius covers the anchoring area). Ports already
#: in :data:`PORTS` are not repeated.
ANCHORAGES: tuple[Anchorage, ...] = (
    # Antigua and Barbuda
    Anchorage("Falmouth Harbour", "AG", 17.013, -61.778, 1000),
    Anchorage("English Harbour", "AG", 17.002, -61.763, 700),
    Anchorage("Jolly Harbour", "AG", 17.070, -61.888, 1000),
    Anchorage("Nonsuch Bay", "AG", 17.060, -61.670, 1500),
    # Anguilla, Saint-Barthélemy, Saint-Martin / Sint Maarten
    Anchorage("Road Bay", "AI", 18.200, -63.093, 1000),
    Anchorage("Gustavia", "BL", 17.897, -62.852, 1000),
    Anchorage("Anse de Colombier", "BL", 17.923, -62.871, 600),
    Anchorage("Simpson Bay Lagoon", "SX", 18.045, -63.088, 2200),
    Anchorage("Simpson Bay", "SX", 18.030, -63.100, 1000),
    Anchorage("Marigot Bay (Saint-Martin)", "MF", 18.072, -63.090, 1200),
    Anchorage("Grand Case", "MF", 18.104, -63.060, 800),
    # Saint Kitts and Nevis, Montserrat, Sint Eustatius
    Anchorage("Port Zante, Basseterre", "KN", 17.293, -62.720, 700),
    Anchorage("Pinney's Beach, Charlestown", "KN", 17.145, -62.625, 1500),
    Anchorage("Little Bay", "MS", 16.800, -62.210, 800),
    Anchorage("Oranjestad roadstead, Sint Eustatius", "BQ", 17.480, -62.990, 800),
    # Guadeloupe
    Anchorage("Deshaies", "GP", 16.306, -61.797, 900),
    Anchorage("Marina Bas-du-Fort, Pointe-à-Pitre", "GP", 16.222, -61.527, 1000),
    Anchorage("Îlet du Gosier", "GP", 16.200, -61.495, 800),
    Anchorage("Les Saintes, Terre-de-Haut", "GP", 15.869, -61.584, 1200),
    Anchorage("Saint-Louis, Marie-Galante", "GP", 15.958, -61.322, 1000),
    # Dominica
    Anchorage("Prince Rupert Bay, Portsmouth", "DM", 15.580, -61.468, 2500),
    Anchorage("Roseau moorings", "DM", 15.290, -61.385, 1000),
    # Martinique
    Anchorage("Le Marin", "MQ", 14.462, -60.870, 1500),
    Anchorage("Sainte-Anne", "MQ", 14.435, -60.885, 1500),
    Anchorage("Anse Mitan, Les Trois-Îlets", "MQ", 14.555, -61.055, 1000),
    Anchorage("Saint-Pierre", "MQ", 14.742, -61.178, 1000),
    Anchorage("Anse Mitan and Flamands, Fort-de-France", "MQ", 14.600, -61.070, 800),
    # Saint Lucia
    Anchorage("Rodney Bay", "LC", 14.080, -60.958, 1500),
    Anchorage("Marigot Bay (Saint Lucia)", "LC", 13.966, -61.025, 600),
    Anchorage("Soufrière and the Pitons", "LC", 13.850, -61.065, 1500),
    # Saint Vincent and the Grenadines
    Anchorage("Wallilabou Bay", "VC", 13.250, -61.274, 600),
    Anchorage("Blue Lagoon and Calliaqua", "VC", 13.130, -61.195, 1000),
    Anchorage("Admiralty Bay, Bequia", "VC", 13.010, -61.240, 1500),
    Anchorage("Britannia Bay, Mustique", "VC", 12.880, -61.190, 1000),
    Anchorage("Tobago Cays", "VC", 12.632, -61.357, 1500),
    Anchorage("Salt Whistle Bay, Mayreau", "VC", 12.647, -61.389, 600),
    Anchorage("Saline Bay, Mayreau", "VC", 12.632, -61.397, 800),
    Anchorage("Chatham Bay, Union Island", "VC", 12.600, -61.450, 800),
    Anchorage("Clifton, Union Island", "VC", 12.595, -61.412, 1000),
    # Grenada and Carriacou
    Anchorage("Tyrrel Bay, Carriacou", "GD", 12.455, -61.490, 1000),
    Anchorage("Hillsborough, Carriacou", "GD", 12.482, -61.460, 1000),
    Anchorage("Prickly Bay", "GD", 12.000, -61.763, 1000),
    Anchorage("Mount Hartman Bay", "GD", 12.005, -61.748, 700),
    Anchorage("Clarkes Court Bay", "GD", 12.010, -61.727, 800),
    Anchorage("Grand Anse and St George's Lagoon", "GD", 12.045, -61.752, 1200),
    # Barbados, Trinidad and Tobago
    Anchorage("Carlisle Bay", "BB", 13.090, -59.615, 1200),
    Anchorage("Port St Charles", "BB", 13.262, -59.645, 600),
    Anchorage("Chaguaramas", "TT", 10.680, -61.640, 2000),
    Anchorage("Store Bay, Crown Point", "TT", 11.155, -60.845, 1000),
    Anchorage("Man O' War Bay, Charlotteville", "TT", 11.323, -60.553, 1000),
    # British and US Virgin Islands, Puerto Rico
    Anchorage("Road Harbour, Tortola", "VG", 18.420, -64.610, 1500),
    Anchorage("The Bight, Norman Island", "VG", 18.317, -64.617, 800),
    Anchorage("Cane Garden Bay", "VG", 18.428, -64.662, 800),
    Anchorage("Great Harbour, Jost Van Dyke", "VG", 18.443, -64.752, 800),
    Anchorage("Soper's Hole", "VG", 18.385, -64.702, 600),
    Anchorage("Trellis Bay", "VG", 18.447, -64.532, 800),
    Anchorage("Spanish Town, Virgin Gorda", "VG", 18.447, -64.437, 700),
    Anchorage("North Sound, Virgin Gorda", "VG", 18.500, -64.370, 2000),
    Anchorage("Setting Point, Anegada", "VG", 18.717, -64.388, 1000),
    Anchorage("Red Hook", "VI", 18.323, -64.850, 700),
    Anchorage("Cruz Bay", "VI", 18.332, -64.797, 600),
    Anchorage("Francis Bay", "VI", 18.365, -64.750, 800),
    Anchorage("Coral Bay", "VI", 18.340, -64.710, 1200),
    Anchorage("Christiansted harbour", "VI", 17.750, -64.703, 1000),
    Anchorage("Ensenada Honda, Culebra", "PR", 18.300, -65.290, 1200),
    Anchorage("Esperanza, Vieques", "PR", 18.090, -65.475, 800),
    Anchorage("Puerto del Rey, Fajardo", "PR", 18.285, -65.635, 1000),
    Anchorage("Isleta Marina, Fajardo", "PR", 18.340, -65.620, 800),
    Anchorage("Salinas", "PR", 17.955, -66.295, 1000),
    Anchorage("Boquerón", "PR", 18.020, -67.180, 1000),
    # Hispaniola, Jamaica, Cayman Islands, Cuba
    Anchorage("Samaná", "DO", 19.200, -69.330, 1500),
    Anchorage("Luperón", "DO", 19.900, -70.955, 1200),
    Anchorage("Casa de Campo marina", "DO", 18.400, -68.905, 700),
    Anchorage("Port Morgan, Île-à-Vache", "HT", 18.078, -73.645, 1000),
    Anchorage("Port Antonio", "JM", 18.180, -76.450, 1000),
    Anchorage("Port Royal", "JM", 17.935, -76.840, 1000),
    Anchorage("North Sound, Grand Cayman", "KY", 19.340, -81.300, 3000),
    Anchorage("Marina Hemingway", "CU", 23.090, -82.510, 800),
    Anchorage("Cayo Largo", "CU", 21.615, -81.555, 1200),
    # The Bahamas, Turks and Caicos
    Anchorage("Elizabeth Harbour, George Town", "BS", 23.515, -75.770, 3000),
    Anchorage("Hope Town", "BS", 26.540, -76.960, 700),
    Anchorage("Marsh Harbour", "BS", 26.550, -77.060, 1200),
    Anchorage("Staniel Cay", "BS", 24.170, -76.440, 1200),
    Anchorage("Bimini", "BS", 25.725, -79.300, 1000),
    Anchorage("Sapodilla Bay, Providenciales", "TC", 21.740, -72.290, 1000),
    # Central and South America
    Anchorage("Manga and Club Náutico, Cartagena", "CO", 10.410, -75.540, 1200),
    Anchorage("San Andrés", "CO", 12.585, -81.690, 1500),
    Anchorage("Santa Marta marina", "CO", 11.240, -74.215, 600),
    Anchorage("Shelter Bay, Colón", "PA", 9.370, -79.950, 800),
    Anchorage("Portobelo", "PA", 9.555, -79.655, 1200),
    Anchorage("Linton Bay", "PA", 9.612, -79.578, 1000),
    Anchorage("Chichime, Guna Yala", "PA", 9.590, -78.870, 1000),
    Anchorage("East Lemmon Cays, Guna Yala", "PA", 9.550, -78.660, 1500),
    Anchorage("Bocas del Toro", "PA", 9.335, -82.245, 1500),
    Anchorage("Brig Bay, Corn Islands", "NI", 12.165, -83.060, 1000),
    Anchorage("French Cay Harbour, Roatán", "HN", 16.355, -86.445, 1000),
    Anchorage("West End, Roatán", "HN", 16.305, -86.595, 1000),
    Anchorage("Guanaja", "HN", 16.455, -85.890, 1500),
    Anchorage("Livingston, Río Dulce mouth", "GT", 15.825, -88.750, 1000),
    Anchorage("San Pedro, Ambergris Caye", "BZ", 17.920, -87.965, 1500),
    Anchorage("Caye Caulker", "BZ", 17.750, -88.030, 1200),
    Anchorage("Placencia", "BZ", 16.515, -88.370, 1500),
    Anchorage("Isla Mujeres", "MX", 21.240, -86.740, 1500),
    Anchorage("Puerto Aventuras", "MX", 20.495, -87.225, 600),
    # Leeward Antilles and Venezuela
    Anchorage("Spanish Water, Curaçao", "CW", 12.070, -68.860, 1500),
    Anchorage("Porlamar, Isla Margarita", "VE", 10.950, -63.840, 1500),
    Anchorage("Gran Roque, Los Roques", "VE", 11.950, -66.675, 1500),
    Anchorage("El Morro, Puerto La Cruz", "VE", 10.225, -64.640, 1000),
)


@dataclass(frozen=True, slots=True)
class InlandWater:
    """A navigable river, canal or lake of the region as a corridor: a polyline (lat, lon) and a half-width (m)."""

    name: str
    points: tuple[tuple[float, float], ...]
    half_width_m: float


#: The region's navigable inland waters that Natural Earth 10 m land covers, so that a vessel on them is not
#: "on land": approximate corridors along the navigable channels (public geography, positions to about 2 km).
INLAND_WATERS: tuple[InlandWater, ...] = (
    InlandWater("Panama Canal", ((9.39, -79.92), (9.27, -79.92), (9.20, -79.88), (9.15, -79.78), (9.12, -79.70),
                                 (9.08, -79.67), (9.03, -79.63), (9.01, -79.60), (8.97, -79.58), (8.89, -79.53)),
                4000),
    InlandWater("Gatun Lake", ((9.25, -79.98), (9.15, -79.85), (9.10, -79.72)), 9000),
    InlandWater("Lago de Nicaragua", ((12.15, -85.95), (11.60, -85.40), (11.10, -84.95)), 28000),
    InlandWater("Lago de Managua", ((12.38, -86.55), (12.20, -86.20)), 12000),
    InlandWater("Río San Juan", ((11.12, -84.78), (10.95, -84.30), (10.75, -83.95), (10.93, -83.70)), 3000),
    InlandWater("Lago de Izabal", ((15.48, -89.45), (15.62, -88.95)), 12000),
    InlandWater("Río Dulce", ((15.62, -88.95), (15.70, -88.85), (15.78, -88.78), (15.83, -88.75)), 3000),
    InlandWater("Orinoco", ((8.60, -60.50), (8.62, -61.00), (8.55, -61.60), (8.62, -62.10), (8.40, -62.45),
                            (8.30, -62.75), (8.18, -63.20), (8.13, -63.55), (7.85, -64.30), (7.65, -65.20),
                            (7.64, -66.17), (7.40, -66.60), (7.00, -67.30)), 5000),
    InlandWater("Magdalena", ((11.10, -74.85), (10.97, -74.77), (10.60, -74.80), (10.25, -74.92), (9.70, -74.75),
                              (9.25, -74.40), (9.00, -73.97), (8.50, -73.85), (8.00, -73.85), (7.07, -73.86)), 5000),
    InlandWater("Canal del Dique", ((10.25, -74.92), (10.30, -75.10), (10.30, -75.35), (10.35, -75.50)), 3000),
    InlandWater("Lago de Maracaibo", ((10.90, -71.60), (10.50, -71.60), (9.80, -71.60), (9.30, -71.50)), 50000),
    InlandWater("Lake Okeechobee", ((27.20, -80.85), (26.75, -80.75)), 20000),
    InlandWater("Okeechobee Waterway", ((26.53, -82.00), (26.72, -81.60), (26.78, -81.20), (26.90, -80.90),
                                        (27.00, -80.62), (27.15, -80.30), (27.20, -80.20)), 3000),
)


#: CARICOM members and associate members (ISO 3166-1 alpha-2), and other states and territories.
CARICOM_MEMBERS = ("AG", "BS", "BB", "BZ", "DM", "GD", "GY", "HT", "JM", "MS", "KN", "LC", "VC", "SR", "TT")
CARICOM_ASSOCIATES = ("AI", "BM", "VG", "KY", "TC", "CW", "AW", "SX")

#: Who is told (alert routing labels), by territory.
AUTHORITIES: dict[str, str] = {
    "AG": "Antigua and Barbuda Coast Guard",
    "BS": "Royal Bahamas Defence Force",
    "BB": "Barbados Coast Guard",
    "BZ": "Belize Coast Guard",
    "DM": "Commonwealth of Dominica Police Coast Guard",
    "GD": "Grenada Coast Guard",
    "GY": "Guyana Defence Force Coast Guard",
    "HT": "Haiti Coast Guard",
    "JM": "Jamaica Defence Force Coast Guard",
    "MS": "Royal Montserrat Police Service Marine Unit",
    "KN": "St Kitts and Nevis Coast Guard",
    "LC": "Royal Saint Lucia Police Force Marine Unit",
    "VC": "St Vincent and the Grenadines Coast Guard",
    "TT": "Trinidad and Tobago Coast Guard",
    "AI": "Royal Anguilla Police Force Marine Unit",
    "VG": "Royal Virgin Islands Police Force Marine Unit",
    "KY": "Cayman Islands Coast Guard",
    "TC": "Turks and Caicos Islands Marine Branch",
    "CW": "Dutch Caribbean Coast Guard",
    "AW": "Dutch Caribbean Coast Guard",
    "SX": "Dutch Caribbean Coast Guard",
    "BQ": "Dutch Caribbean Coast Guard",
    "PR": "US Coast Guard Sector San Juan",
    "VI": "US Coast Guard Sector San Juan",
    "US": "US Coast Guard District 7",
    "GP": "French Navy (Antilles)",
    "MQ": "French Navy (Antilles)",
    "BL": "French Navy (Antilles)",
    "MF": "French Navy (Antilles)",
    "DO": "Armada de Republica Dominicana",
    "CU": "Cuban Border Guard",
    "CO": "Colombian Navy Coast Guard",
    "VE": "Venezuelan Coast Guard",
    "MX": "Mexican Navy",
    "PA": "Panama National Aeronaval Service",
    "CR": "Costa Rica National Coast Guard",
    "NI": "Nicaraguan Naval Force",
    "HN": "Honduran Navy",
    "GT": "Guatemalan Navy",
    "BM": "Royal Bermuda Regiment Coast Guard",
    "SR": "Suriname Coast Guard",
}

#: Natural Earth units that hold several Caribbean territories: split by bounding box (lon0, lat0, lon1, lat1).
SUBTERRITORIES: dict[str, tuple[tuple[str, str, tuple[float, float, float, float]], ...]] = {
    "FRA": (("GP", "Guadeloupe", (-61.9, 15.8, -60.9, 16.6)), ("MQ", "Martinique", (-61.3, 14.3, -60.7, 15.0))),
    "NLD": (("BQ", "Bonaire", (-68.5, 11.9, -68.1, 12.4)),
            ("BQ", "Sint Eustatius and Saba", (-63.35, 17.4, -62.9, 17.7))),
}

#: MIDs used by the simulator, by flag (Caribbean registries and open registries seen in the region).
FLAG_MIDS: dict[str, tuple[int, ...]] = {
    "PA": (351, 352, 353, 354, 355, 356, 357, 370, 371, 372, 373),
    "LR": (636, 637),
    "MH": (538,),
    "BS": (308, 309, 311),
    "AG": (304, 305),
    "VC": (375, 376, 377),
    "BB": (314,),
    "JM": (339,),
    "TT": (362,),
    "DM": (325,),
    "LC": (343,),
    "GD": (330,),
    "BZ": (312,),
    "HN": (334,),
    "DO": (327,),
    "CU": (323,),
    "CW": (306,),
    "US": (366, 367, 368, 369),
    "PR": (358,),
    "KY": (319,),
    "VG": (378,),
    "VE": (775,),
    "CO": (730,),
    "MX": (345,),
    "KN": (341,),
    "HT": (336,),
    "GY": (750,),
    "MT": (215, 229, 248, 249, 256),
    "SG": (563, 564, 565, 566),
}
