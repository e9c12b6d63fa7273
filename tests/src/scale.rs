//! Rules files larger than any real one, for the checker's cost curve and the language server's
//! long-file tests: the ACS rules with renamed copies of every rule appended. The copies overlap
//! everywhere (the analyses' worst case: every copy fires with its original) or, `disjoint`, each
//! copy's rules apply only in a day of their own (`as_of`), as the rows of a larger advisory do.

use preflight_compiler::ACS_RULES;

/// The ACS rules with `copies - 1` renamed copies of its rules (so `copies` times its rules).
pub fn acs_copies(copies: usize, disjoint: bool) -> String {
    let blocks = rule_blocks(ACS_RULES);
    let mut out = String::from(ACS_RULES);
    for copy in 1..copies {
        for (name, block) in &blocks {
            let renamed = block.replacen(&format!("rule {name} {{"), &format!("rule {name}_copy{copy} {{"), 1);
            out.push('\n');
            out.push_str(&if disjoint { gated(&renamed, copy) } else { renamed });
        }
    }
    out
}

/// Every `rule NAME { ... }` block of a file (a block ends at the first line that is `}`).
fn rule_blocks(source: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut current: Option<(String, String)> = None;
    for line in source.lines() {
        if let Some((_, block)) = current.as_mut() {
            block.push_str(line);
            block.push('\n');
            if line == "}" {
                out.extend(current.take());
            }
        } else if let Some(rest) = line.strip_prefix("rule ") {
            let name = rest.trim_end_matches('{').trim().to_string();
            current = Some((name, format!("{line}\n")));
        }
    }
    out
}

/// The block with its `when` limited to one day of its own: `as_of` from 2100-01-01 + copy days.
fn gated(block: &str, copy: usize) -> String {
    let lines: Vec<&str> = block.lines().collect();
    let Some(start) = lines.iter().position(|l| l.starts_with("  when ")) else { return block.to_string() };
    let mut end = start;
    while lines.get(end + 1).is_some_and(|l| l.starts_with("    ")) {
        end += 1;
    }
    let day = |n: usize| {
        let (month, day) = (1 + n / 28, 1 + n % 28);
        format!("2100-{month:02}-{day:02}")
    };
    let mut out = String::new();
    for (i, line) in lines.iter().enumerate() {
        if i == start {
            let rest = line.trim_start_matches("  when ");
            out.push_str(&format!("  when as_of >= {} and as_of < {} and ({rest}", day(copy), day(copy + 1)));
        } else {
            out.push_str(line);
        }
        if i == end {
            out.push(')');
        }
        out.push('\n');
    }
    out
}
