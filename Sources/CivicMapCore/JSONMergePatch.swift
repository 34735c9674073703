import Foundation

/// RFC 7396 JSON Merge Patch on `JSONSerialization` values: objects merge member by member,
/// `null` removes a member, anything else replaces the target whole (arrays included).
public enum JSONMergePatch {
    public static func apply(_ patch: Any, to target: Any?) -> Any {
        guard let patch = patch as? [String: Any] else { return patch }
        var result = target as? [String: Any] ?? [:]
        for (name, value) in patch {
            if value is NSNull {
                result.removeValue(forKey: name)
            } else {
                result[name] = apply(value, to: result[name])
            }
        }
        return result
    }

    /// The stored Feature as the base of a patch. Derived properties go (the store recomputes
    /// them), and a patch that moves the point without naming a region lets the region be
    /// found again from the outlines rather than keep the old one.
    public static func editableFeature(_ stored: [UInt8], patch: Any) throws(CivicMapError) -> Any {
        guard var feature = try ImportReader.json(stored) as? [String: Any],
            var properties = feature["properties"] as? [String: Any]
        else { throw .notReady("the stored Feature is not an object") }
        for name in ImportColumns.derived { properties.removeValue(forKey: name) }
        let patchProperties = (patch as? [String: Any])?["properties"] as? [String: Any] ?? [:]
        let namesRegion = patchProperties["region_iso"] != nil || patchProperties["region_code"] != nil
        if namesRegion || (patch as? [String: Any])?["geometry"] != nil {
            // The patch's region, or none: the point's region is found again.
            properties.removeValue(forKey: "region_iso")
            properties.removeValue(forKey: "region_code")
        } else if properties["region_iso"] is String {
            // One statement of the region (regions without an ISO code keep their code).
            properties.removeValue(forKey: "region_code")
        }
        feature["properties"] = properties
        feature.removeValue(forKey: "links")
        return feature
    }
}
