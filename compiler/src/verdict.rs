//! The verdict a host gets: its status and the findings that explain it (SEMANTICS.md, "Verdict").

use crate::ast::CmpOp;
use serde::Serialize;

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Verdict {
    pub advisory: String,
    pub status: &'static str,
    /// The id of the rules' `os` declaration the host's build and role match (`host.os`), when
    /// one does and the facts tell which.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub os: Option<String>,
    pub findings: Vec<Finding>,
    /// Rules the facts cannot decide: a fact they read was not sent.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub undetermined: Vec<Undetermined>,
}

/// A rule whose outcome depends on facts the host did not send: it gives no finding.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Undetermined {
    pub rule: String,
    /// The severities it could give once the facts are known.
    pub could_be: Vec<&'static str>,
    /// The facts it reads that the host did not send.
    pub needs: Vec<NeededFact>,
}

/// A fact an answer needs, and how a Windows collector reads it (its `from`), if the rules say.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct NeededFact {
    pub fact: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub collect: Option<String>,
}

/// One fired rule: what it says and what to do.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Finding {
    pub rule: String,
    pub severity: &'static str,
    pub message: String,
    /// What to do: the step the finding's requirement asks for (none for a notice, or when the
    /// requirement offers alternatives).
    #[serde(flatten)]
    pub step: Step,
    /// Alternatives of different kinds (`require (KB1 or certificate c)`): any one of these
    /// steps meets the requirement. The finding then names no step of its own.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub any_of: Vec<Step>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cite: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<String>,
    /// The line of the rule in the rules file.
    pub line: usize,
}

/// A component requirement in words, by the version its users know (`shown`, else the
/// compared one): `BITS 2.5 or later`, `SDK later than 3.0`, `Driver 1.2.3`.
pub fn component_words(name: &str, op: CmpOp, version: &str) -> String {
    match op {
        CmpOp::Gt => format!("{name} later than {version}"),
        CmpOp::Eq => format!("{name} {version}"),
        _ => format!("{name} {version} or later"),
    }
}

impl Finding {
    /// What the finding asks, in words, for a message's `{need}`: `KB5011487`, `KB1 or KB2`,
    /// `BITS 2.5 or later`, `Secure Boot = enabled`..., alternatives joined by "or"; empty for a
    /// notice.
    pub fn need_words(&self) -> String {
        if self.any_of.is_empty() {
            self.step.words()
        } else {
            self.any_of.iter().map(Step::words).filter(|w| !w.is_empty()).collect::<Vec<_>>().join(" or ")
        }
    }
}

impl Step {
    /// The step in words (see [`Finding::need_words`]): exactly what the finding offers, so the
    /// updates for the host's OS that are out at the evaluation date.
    pub fn words(&self) -> String {
        if !self.install_any_of.is_empty() {
            return self.install_any_of.join(" or ");
        }
        if let Some(c) = &self.component {
            let (op, compared) = match (&c.at_least, &c.above, &c.exactly) {
                (_, Some(v), _) => (CmpOp::Gt, v),
                (_, _, Some(v)) => (CmpOp::Eq, v),
                (Some(v), _, _) => (CmpOp::Ge, v),
                (None, None, None) => return c.name.clone(),
            };
            return component_words(&c.name, op, c.shown.as_deref().unwrap_or(compared));
        }
        if let Some(s) = &self.setting {
            // `setting netfx35`: turned on, said by its name alone.
            return if s.value == "true" { s.name.clone() } else { format!("{} = {}", s.name, s.value) };
        }
        if let Some(a) = &self.action {
            return a.name.clone();
        }
        self.certificate.clone().unwrap_or_default()
    }
}

/// One step to take: install any one of some updates, a certificate, a component, a setting,
/// an action. A finding carries one (flattened into it), or several alternatives in `any_of`.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Step {
    /// Install any one of these updates.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub install_any_of: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub updates: Vec<UpdateInfo>,
    /// A component to install or upgrade.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub component: Option<ComponentInfo>,
    /// A setting or feature to change.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub setting: Option<SettingInfo>,
    /// A step to take (a firmware update, a cumulative update released after a date, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action: Option<ActionInfo>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub certificate: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub thumbprint: Option<String>,
}

/// What the rules file knows of an update a finding asks for.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct UpdateInfo {
    pub kb: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub title: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub released: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<String>,
}

/// How one rule was decided, for `--explain`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TraceStep {
    pub rule: String,
    pub line: usize,
    pub fired: bool,
    pub why: String,
}

/// A component a finding asks for: at least at a version (`at_least`), later than one
/// (`above`) or exactly one (`exactly`) — one of the three —, and the version as its users know
/// it when the rules give one (`shown`: BITS "2.5" for qmgr.dll 6.7).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ComponentInfo {
    pub id: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at_least: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub above: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exactly: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shown: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<String>,
}

/// A setting a finding asks for, with the value it must have.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SettingInfo {
    pub id: String,
    pub name: String,
    pub value: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<String>,
}

/// A step a finding asks for.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ActionInfo {
    pub id: String,
    pub name: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<String>,
}
