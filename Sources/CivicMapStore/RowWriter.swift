import GRDB
import GRDBSQLite

/// One prepared statement run for many rows through SQLite's C API. For the hundreds of
/// thousands of rows of an import, GRDB's `StatementArguments` (an existential per value,
/// checked and converted one by one) cost more than SQLite's own insert.
struct RowWriter {
    private let statement: Statement
    private let db: Database
    private var column: Int32 = 0

    init(_ db: Database, sql: String) throws {
        self.db = db
        statement = try db.makeStatement(sql: sql)
    }

    mutating func bind(_ value: Int64?) {
        column += 1
        if let value { sqlite3_bind_int64(statement.sqliteStatement, column, value) } else { sqlite3_bind_null(statement.sqliteStatement, column) }
    }

    mutating func bind(_ value: Int?) { bind(value.map(Int64.init)) }

    mutating func bind(_ value: Double?) {
        column += 1
        if let value { sqlite3_bind_double(statement.sqliteStatement, column, value) } else { sqlite3_bind_null(statement.sqliteStatement, column) }
    }

    mutating func bind(_ value: String?) {
        column += 1
        guard var value else { sqlite3_bind_null(statement.sqliteStatement, column); return }
        let handle = statement.sqliteStatement, column = self.column
        value.withUTF8 { text in
            guard let start = text.baseAddress, text.count > 0 else { _ = sqlite3_bind_text(handle, column, "", 0, Self.transient); return }
            _ = sqlite3_bind_text(handle, column, UnsafeRawPointer(start).assumingMemoryBound(to: CChar.self), Int32(text.count), Self.transient)
        }
    }

    mutating func bind(blob: [UInt8]) {
        column += 1
        let handle = statement.sqliteStatement, column = self.column
        blob.withUnsafeBytes { bytes in
            _ = sqlite3_bind_blob(handle, column, bytes.baseAddress, Int32(bytes.count), Self.transient)
        }
    }

    /// Runs the statement with the values bound since the last row.
    mutating func step() throws {
        column = 0
        let handle = statement.sqliteStatement
        let code = sqlite3_step(handle)
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
        guard code == SQLITE_DONE else {
            throw DatabaseError(resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(db.sqliteConnection)), sql: statement.sql)
        }
    }

    /// SQLite copies what it is given (the Swift buffers do not outlive the call).
    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
}
