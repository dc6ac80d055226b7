//! PATCH (agentgateway): exact spellings of response header names on the wire.

/// Exact spellings of header names for one HTTP/1 response, set in the
/// response's extensions.
///
/// `HeaderName` keeps names in lower case, and the h1 encoder writes them so
/// (or in Camel-Case, when asked). Some clients compare header names
/// case-sensitively; a response that carries this extension has each listed
/// header written exactly as spelled here, all others as usual. A spelling
/// must be the same name as the header it respells, up to ASCII case;
/// spellings that are not are ignored.
///
/// ```
/// use actix_http::{header::WireSpelling, Response};
///
/// let mut res = Response::ok();
/// res.extensions_mut().insert(WireSpelling(&["Set-GUID"]));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WireSpelling(pub &'static [&'static str]);

impl WireSpelling {
    /// The spelling for the lower-case `name`, if one is listed.
    pub(crate) fn of(&self, name: &str) -> Option<&'static [u8]> {
        self.0
            .iter()
            .find(|spelling| spelling.eq_ignore_ascii_case(name))
            .map(|spelling| spelling.as_bytes())
    }
}

