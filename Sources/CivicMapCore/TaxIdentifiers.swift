/// Check digits of Russian tax identifiers, as the Federal Tax Service defines them.
public enum TaxIdentifiers {
    /// ИНН: 10 digits for an organisation (one check digit), 12 for a person (two).
    public static func isValidINN(_ inn: String) -> Bool {
        guard let d = digits(inn) else { return false }
        func check(_ weights: [Int], _ count: Int) -> Int {
            zip(weights, d.prefix(count)).reduce(0) { $0 + $1.0 * $1.1 } % 11 % 10
        }
        switch d.count {
        case 10:
            return check([2, 4, 10, 3, 5, 9, 4, 6, 8], 9) == d[9]
        case 12:
            return check([7, 2, 4, 10, 3, 5, 9, 4, 6, 8], 10) == d[10]
                && check([3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8], 11) == d[11]
        default:
            return false
        }
    }

    /// ОГРН (13 digits, check = first 12 mod 11 mod 10) or ОГРНИП (15 digits, first 14 mod 13 mod 10).
    public static func isValidOGRN(_ ogrn: String) -> Bool {
        guard let d = digits(ogrn), d.count == 13 || d.count == 15 else { return false }
        var number = 0
        for digit in d.dropLast() { number = number * 10 + digit }  // 14 digits fit in Int64
        let modulus = d.count == 13 ? 11 : 13
        return number % modulus % 10 == d.last!
    }

    /// Why an identifier is rejected, or nil when it is valid.
    public static func innProblem(_ inn: String) -> String? {
        guard digits(inn) != nil else { return "ИНН must consist of digits only" }
        guard inn.count == 10 || inn.count == 12 else { return "ИНН must have 10 digits (organisation) or 12 (person), not \(inn.count)" }
        return isValidINN(inn) ? nil : "ИНН check digit does not match"
    }

    public static func ogrnProblem(_ ogrn: String) -> String? {
        guard digits(ogrn) != nil else { return "ОГРН must consist of digits only" }
        guard ogrn.count == 13 || ogrn.count == 15 else { return "ОГРН must have 13 digits (ОГРНИП: 15), not \(ogrn.count)" }
        return isValidOGRN(ogrn) ? nil : "ОГРН check digit does not match"
    }

    private static func digits(_ s: String) -> [Int]? {
        var out: [Int] = []
        for u in s.utf8 {
            guard (48...57).contains(u) else { return nil }
            out.append(Int(u - 48))
        }
        return out.isEmpty ? nil : out
    }
}
