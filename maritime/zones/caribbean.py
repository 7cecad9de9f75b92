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
