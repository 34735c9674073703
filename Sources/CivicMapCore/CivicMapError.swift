/// The one error type of the domain. The HTTP layer maps each case to an RFC 9457 problem;
/// nothing here knows about status codes.
public enum CivicMapError: Error, Equatable, Sendable {
    /// A query parameter or option has a value the service cannot use.
    case invalidParameter(name: String, reason: String)
    /// The named thing does not exist (a collection, a feature).
    case notFound(String)
    /// Rows of an input (import file, request body) that failed validation.
    case invalidRecords([FieldProblem])
    /// The input conflicts with what is stored (for example a duplicate ОГРН).
    case conflict(String)
    /// The store is missing what the operation needs (for example regions not loaded).
    case notReady(String)
    /// The request carries no credentials, or ones the service does not know.
    case unauthenticated(String)
    /// The credentials are known but do not allow this (a role, a region scope).
    case forbidden(String)
    /// The stored thing changed since the client read it (its entity tag differs).
    case preconditionFailed(String)
    /// A change without the entity tag that guards against lost updates.
    case preconditionRequired(String)
}

/// One reason one input record was rejected: where, which field, why.
public struct FieldProblem: Error, Equatable, Sendable, CustomStringConvertible {
    /// The 1-based line (CSV) or feature number (GeoJSON); 0 when the whole input is at fault.
    public var line: Int
    public var field: String
    public var reason: String
    /// The input file, when an import reads several.
    public var file: String?

    public init(line: Int, field: String, reason: String, file: String? = nil) {
        self.line = line
        self.field = field
        self.reason = reason
        self.file = file
    }

    /// The same problem, naming its file.
    public func inFile(_ file: String?) -> FieldProblem {
        var named = self
        named.file = file
        return named
    }

    /// "line 4", or "b.csv, line 4" when the problem names its file.
    public var place: String { Self.place(line: line, file: file) }

    public static func place(line: Int, file: String?) -> String { (file.map { "\($0), " } ?? "") + "line \(line)" }

    public var description: String { "\(place), \(field): \(reason)" }
}

extension CivicMapError: CustomStringConvertible {
    public var description: String {
        switch self {
        case .invalidParameter(let name, let reason): "invalid parameter '\(name)': \(reason)"
        case .notFound(let what): "\(what) not found"
        case .invalidRecords(let problems):
            "\(problems.count) invalid record(s): " + problems.prefix(5).map(\.description).joined(separator: "; ")
        case .conflict(let what): "conflict: \(what)"
        case .notReady(let what): what
        case .unauthenticated(let why), .forbidden(let why), .preconditionFailed(let why), .preconditionRequired(let why): why
        }
    }
}
