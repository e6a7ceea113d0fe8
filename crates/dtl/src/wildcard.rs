//! Wildcard patterns (`*` any run, `?` one character) matched against whole property
//! names, with the namespaced-identifier rules of `copy`/`remove` (last colon splits).

/// A compiled wildcard pattern.
#[derive(Clone, Debug)]
pub struct Wildcard {
    pub text: String,
    chars: Vec<char>,
    simple: Simple,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Simple {
    All,
    Exact,
    General,
}

impl Wildcard {
    pub fn new(text: &str) -> Wildcard {
        let simple = if text == "*" {
            Simple::All
        } else if !text.contains(['*', '?']) {
            Simple::Exact
        } else {
            Simple::General
        };
        Wildcard {
            text: text.to_owned(),
            chars: text.chars().collect(),
            simple,
        }
    }

    pub fn is_all(&self) -> bool {
        self.simple == Simple::All
    }

    /// The one name the pattern matches in plain mode, if it has no wildcard.
    pub fn exact(&self) -> Option<&str> {
        (self.simple == Simple::Exact).then_some(self.text.as_str())
    }

    /// Whether the pattern matches the whole name (plain mode).
    pub fn matches(&self, name: &str) -> bool {
        match self.simple {
            Simple::All => true,
            Simple::Exact => self.text == name,
            Simple::General => glob(&self.chars, name),
        }
    }

    /// Namespace-aware match: `::x` is exactly `x`, `:x` is `x` in `prop_ns`, a pattern with
    /// a colon matches namespace and identifier separately (last colon), and an unqualified
    /// pattern matches the identifier in every namespace.
    pub fn matches_ns(&self, name: &str, prop_ns: &str) -> bool {
        let t = self.text.as_str();
        if let Some(rest) = t.strip_prefix("::") {
            return glob_str(rest, name);
        }
        if let Some(rest) = t.strip_prefix(':') {
            return glob_str(&format!("{prop_ns}:{rest}"), name);
        }
        let (kns, kid) = split_ns(name);
        match t.rfind(':') {
            Some(i) => glob_str(&t[..i], kns.unwrap_or("")) && glob_str(&t[i + 1..], kid),
            None => self.matches(kid),
        }
    }
}

/// Splits `ns:id` at the last colon; `None` namespace when there is no colon.
pub fn split_ns(name: &str) -> (Option<&str>, &str) {
    match name.rfind(':') {
        Some(i) => (Some(&name[..i]), &name[i + 1..]),
        None => (None, name),
    }
}

pub fn glob_str(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    glob(&p, name)
}

/// Iterative glob with backtracking over the last `*` (byte-wise for ASCII names).
fn glob(p: &[char], name: &str) -> bool {
    if name.is_ascii() && p.iter().all(|c| c.is_ascii()) {
        return glob_ascii(p, name.as_bytes());
    }
    let s: Vec<char> = name.chars().collect();
    glob_chars(p, &s)
}

fn glob_ascii(p: &[char], s: &[u8]) -> bool {
    let (mut pi, mut si) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while si < s.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] as u32 == s[si] as u32) {
            pi += 1;
            si += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, si));
            pi += 1;
        } else if let Some((sp, ss)) = star {
            pi = sp + 1;
            si = ss + 1;
            star = Some((sp, ss + 1));
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

fn glob_chars(p: &[char], s: &[char]) -> bool {
    let (mut pi, mut si) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while si < s.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == s[si]) {
            pi += 1;
            si += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, si));
            pi += 1;
        } else if let Some((sp, ss)) = star {
            pi = sp + 1;
            si = ss + 1;
            star = Some((sp, ss + 1));
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_name_matching() {
        assert!(Wildcard::new("a?").matches("ab"));
        assert!(!Wildcard::new("a?").matches("abc"));
        assert!(Wildcard::new("a*p*a").matches("alpaca"));
        assert!(!Wildcard::new("temp").matches("temp_a"));
        assert!(Wildcard::new("*_sport").matches("football_sport"));
    }

    #[test]
    fn namespaced_matching() {
        let w = Wildcard::new("x*:*e");
        assert!(w.matches_ns("x:age", "bar"));
        assert!(w.matches_ns("xyz:age", "bar"));
        assert!(!w.matches_ns("age", "bar"));
        assert!(Wildcard::new("age").matches_ns("y:age", "bar"));
        assert!(Wildcard::new(":age").matches_ns("bar:age", "bar"));
        assert!(!Wildcard::new("::age").matches_ns("bar:age", "bar"));
    }
}
