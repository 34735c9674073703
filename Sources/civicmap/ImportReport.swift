import CivicMapCore
import CivicMapStore
import Foundation

/// The import's closing summary and its optional CSV report of every problem.
enum ImportReport {
    static func print(_ s: ImportSummary, options: ImportOptions = ImportOptions()) {
        var lines: [String] = []
        for (path, dialect) in s.csvDialects { lines.append("read \(path) as \(dialect.description)") }
        if !s.ignoredFields.isEmpty { lines.append("ignored columns: \(s.ignoredFields.joined(separator: ", "))") }
        for p in s.problems.prefix(20) { lines.append("rejected: \(p)") }
        if s.problems.count > 20 { lines.append("… and \(s.problems.count - 20) more problems (use --report FILE for all)") }
        for w in s.warnings.prefix(10) { lines.append("warning: \(w)") }
        if s.warnings.count > 10 { lines.append("… and \(s.warnings.count - 10) more warnings (use --report FILE for all)") }
        let allOrNothing = "all-or-nothing; fix the rows or use --partial"
        let verb = switch (options.dryRun, s.rolledBack) {
        case (true, _) where s.rejected > 0 && !options.partial: "dry run, nothing written; the import would write nothing (\(allOrNothing))"
        case (true, _): "dry run, nothing written"
        case (false, true): "nothing written (\(allOrNothing))"
        case (false, false) where s.added + s.updated == 0: "written (nothing changed)"
        case (false, false): "written" + (s.auditEntry.map { " (audit entry \($0); civicmap revert \($0) undoes it)" } ?? "")
        }
        lines.append("added \(s.added), updated \(s.updated), unchanged \(s.unchanged), rejected \(s.rejected), warnings \(s.warnings.count): \(verb)")
        if !s.seconds.isEmpty {
            lines.append("time: " + s.seconds.map { String(format: "%@ %.2f s", $0.phase, $0.seconds) }.joined(separator: ", "))
        }
        FileHandle.standardError.write(Data((lines.joined(separator: "\n") + "\n").utf8))
    }

    /// Columns severity (error, warning, change), line, field, reason, in the order of the input's
    /// rows; an import of several files adds a file column first. Inputs saved by Excel get a
    /// report Excel opens (semicolons, UTF-8 with a BOM, so Cyrillic reads right).
    static func write(_ s: ImportSummary, to path: String) throws {
        let named = (s.problems + s.warnings).contains { $0.file != nil }
        let fromExcel = s.csvDialects.contains { $0.dialect.delimiter != CSVDialect.standard.delimiter || $0.dialect.encoding != .utf8 }
        let dialect = fromExcel ? CSVDialect.excel : .standard
        var out = dialect.preamble
        dialect.appendRecord((named ? ["file"] : []) + ["severity", "line", "field", "reason"], to: &out)
        let entries = s.problems.map { ("error", $0) } + s.warnings.map { ("warning", $0) } + s.changes.map { ("change", $0) }
        // Stable: a row's errors before its warnings.
        for (severity, p) in entries.enumerated().sorted(by: { a, b in
            (a.element.1.file ?? "", a.element.1.line, a.offset) < (b.element.1.file ?? "", b.element.1.line, b.offset)
        }).map(\.element) {
            dialect.appendRecord((named ? [p.file ?? ""] : []) + [severity, String(p.line), p.field, p.reason], to: &out)
        }
        try Data(out).write(to: URL(fileURLWithPath: path))
    }
}

/// Rows, rate and time left on a terminal; silent when stderr is not one (CI, pipes).
final class ProgressMeter: @unchecked Sendable {
    private let start = Date()
    private let enabled = isatty(STDERR_FILENO) == 1
    private var lastDraw = Date.distantPast

    func update(_ p: ImportProgress) {
        guard enabled, Date().timeIntervalSince(lastDraw) > 0.2 || p.phase == .done else { return }
        lastDraw = Date()
        let elapsed = Date().timeIntervalSince(start)
        var text = "\r\(p.phase.rawValue): \(p.rowsDone) rows"
        if p.rowsTotal > 0 && elapsed > 0 {
            let rate = Double(p.rowsDone) / elapsed
            text += " of \(p.rowsTotal), \(Int(rate)) rows/s"
            if rate > 0 && p.rowsDone < p.rowsTotal { text += ", ~\(Int(Double(p.rowsTotal - p.rowsDone) / rate) + 1) s left" }
        }
        FileHandle.standardError.write(Data((text + "   ").utf8))
    }

    func finish() {
        guard enabled else { return }
        FileHandle.standardError.write(Data(String(format: "\rdone in %.1f s%@\n", Date().timeIntervalSince(start), String(repeating: " ", count: 40)).utf8))
    }
}
