/// A kind of organisation. Kinds are rows of the store's `kinds` table, so a new kind is a
/// migration, not a code change; these are the ones the service ships with.
public struct OrganisationKind: RawRepresentable, Hashable, Sendable, Comparable {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }

    /// Некоммерческая организация (НКО, СО НКО).
    public static let ngo = OrganisationKind(rawValue: "ngo")
    /// Территориальное общественное самоуправление (ТОС).
    public static let tos = OrganisationKind(rawValue: "tos")
    /// Стажировочная площадка: a leader NGO hosting short internships for staff of remote NGOs.
    public static let internshipSite = OrganisationKind(rawValue: "internship_site")

    public static let shipped: [OrganisationKind] = [.ngo, .tos, .internshipSite]

    public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }

    /// The kind as a coordinator writes it in a spreadsheet (imports read it back): «НКО», «ТОС»,
    /// «Стажировочная площадка»; the code for a kind added later.
    public var russianName: String {
        switch self {
        case .ngo: "НКО"
        case .tos: "ТОС"
        case .internshipSite: "Стажировочная площадка"
        default: rawValue
        }
    }
}

/// Display data of a kind, as the store holds it.
public struct KindInfo: Sendable, Equatable {
    public var kind: OrganisationKind
    public var titleRU: String
    public var titleEN: String
    public init(kind: OrganisationKind, titleRU: String, titleEN: String) {
        self.kind = kind
        self.titleRU = titleRU
        self.titleEN = titleEN
    }
}

/// An organisation on the map: an NGO, a ТОС or an internship site.
public struct Organisation: Sendable, Equatable {
    /// Stable identifier; nil before the store assigns one.
    public var id: Int64?
    public var kind: OrganisationKind
    public var name: String
    /// Two-digit subject code (`59` = Пермский край), the join key of regions.
    public var regionCode: String
    public var settlement: String?
    public var address: String?
    public var inn: String?
    public var ogrn: String?
    /// Social areas (дети и молодежь, экология, …), in the order given.
    public var categories: [String]
    public var foundedYear: Int?
    public var website: String?
    public var email: String?
    public var phone: String?
    public var description: String?
    /// Where the record came from (a file, a seed text).
    public var source: String?
    public var location: Coordinate
    /// Programmes an internship site offers (empty for other kinds).
    public var programmes: [Programme]

    // Filled by the store when read back.
    public var regionISO: String? = nil
    public var regionName: String? = nil
    /// Geodesic (WGS84) distance to the region's administrative centre.
    public var distanceToCentreMetres: Double? = nil
    /// Geodesic distance to the point a query asked to be near (`near=lon,lat`).
    public var distanceToPointMetres: Double? = nil
    public var createdAt: String? = nil
    public var updatedAt: String? = nil

    public init(
        id: Int64? = nil, kind: OrganisationKind, name: String, regionCode: String,
        settlement: String? = nil, address: String? = nil, inn: String? = nil, ogrn: String? = nil,
        categories: [String] = [], foundedYear: Int? = nil, website: String? = nil,
        email: String? = nil, phone: String? = nil, description: String? = nil, source: String? = nil,
        location: Coordinate, programmes: [Programme] = []
    ) {
        self.id = id
        self.kind = kind
        self.name = name
        self.regionCode = regionCode
        self.settlement = settlement
        self.address = address
        self.inn = inn
        self.ogrn = ogrn
        self.categories = categories
        self.foundedYear = foundedYear
        self.website = website
        self.email = email
        self.phone = phone
        self.description = description
        self.source = source
        self.location = location
        self.programmes = programmes
    }
}

/// An internship programme of an internship site: 1–2 day visits for staff of remote NGOs.
public struct Programme: Sendable, Equatable {
    public var id: Int64?
    public var title: String
    public var topics: [String]
    public var lengthDays: Int
    /// ISO 8601 calendar dates (`2023-08-02`).
    public var startsOn: String?
    public var endsOn: String?
    public var capacity: Int?
    public var selectionStatus: SelectionStatus
    public var description: String?

    public init(
        id: Int64? = nil, title: String, topics: [String] = [], lengthDays: Int, startsOn: String? = nil,
        endsOn: String? = nil, capacity: Int? = nil, selectionStatus: SelectionStatus = .planned,
        description: String? = nil
    ) {
        self.id = id
        self.title = title
        self.topics = topics
        self.lengthDays = lengthDays
        self.startsOn = startsOn
        self.endsOn = endsOn
        self.capacity = capacity
        self.selectionStatus = selectionStatus
        self.description = description
    }
}

/// Where a programme's selection of participants stands.
public enum SelectionStatus: String, Sendable, CaseIterable {
    case planned, open, closed, completed, cancelled

    /// As the map page says it (web/i18n.js), for files with Russian headers.
    public var russianName: String {
        switch self {
        case .planned: "запланирован"
        case .open: "идёт набор"
        case .closed: "набор закрыт"
        case .completed: "завершён"
        case .cancelled: "отменён"
        }
    }
}
