//! RFC 3339 timestamps: commit dates in the offset their author recorded, and "now" in UTC for records.

/// `2024-05-01T12:00:00+02:00`, in the offset the author recorded.
pub(crate) fn rfc3339(seconds: i64, offset_minutes: i32) -> String {
    let offset =
        time::UtcOffset::from_whole_seconds(offset_minutes * 60).unwrap_or(time::UtcOffset::UTC);
    time::OffsetDateTime::from_unix_timestamp(seconds)
        .map(|t| t.to_offset(offset))
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| seconds.to_string())
}

/// Now, in UTC (`2024-05-01T10:00:00Z`): when a playbook step happened.
pub fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}
