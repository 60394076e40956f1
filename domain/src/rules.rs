//! The rule catalog of `DOMAIN.md`, one variant per rule id.
//!
//! Refusals and events cite these ids so that an operator reading an error, or an
//! auditor reading an event, can find the business rule that was applied.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! rules {
    ($($variant:ident => $id:literal),+ $(,)?) => {
        /// A rule id of `DOMAIN.md`, serialized as the id itself (for example `"STO-2"`).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
        pub enum Rule {
            $(#[serde(rename = $id)] $variant,)+
        }

        impl Rule {
            /// Every rule of the catalog, in catalog order.
            pub const ALL: &'static [Rule] = &[$(Rule::$variant,)+];

            /// The rule id as written in `DOMAIN.md`.
            pub const fn id(self) -> &'static str {
                match self { $(Rule::$variant => $id,)+ }
            }
        }
    };
}

rules! {
    Mon1 => "MON-1", Mon2 => "MON-2", Mon3 => "MON-3",
    Tim1 => "TIM-1", Tim2 => "TIM-2",
    Pol1 => "POL-1", Pol2 => "POL-2",
    Mem1 => "MEM-1", Mem2 => "MEM-2", Mem3 => "MEM-3", Mem4 => "MEM-4", Mem5 => "MEM-5",
    Mem6 => "MEM-6", Mem7 => "MEM-7", Mem8 => "MEM-8", Mem9 => "MEM-9",
    Acc1 => "ACC-1", Acc2 => "ACC-2", Acc3 => "ACC-3", Acc4 => "ACC-4", Acc5 => "ACC-5",
    Acc6 => "ACC-6", Acc7 => "ACC-7", Acc8 => "ACC-8",
    Par1 => "PAR-1", Par2 => "PAR-2", Par3 => "PAR-3", Par4 => "PAR-4",
    Ins1 => "INS-1", Ins2 => "INS-2", Ins3 => "INS-3", Ins4 => "INS-4",
    Sto1 => "STO-1", Sto2 => "STO-2", Sto3 => "STO-3", Sto4 => "STO-4",
    Con1 => "CON-1", Con2 => "CON-2", Con3 => "CON-3", Con4 => "CON-4", Con5 => "CON-5",
    Fee1 => "FEE-1", Fee2 => "FEE-2", Fee3 => "FEE-3",
    Pay1 => "PAY-1", Pay2 => "PAY-2",
    Shp1 => "SHP-1", Shp2 => "SHP-2",
    Clm1 => "CLM-1", Clm2 => "CLM-2", Clm3 => "CLM-3", Clm4 => "CLM-4", Clm5 => "CLM-5", Clm6 => "CLM-6",
    Dsp1 => "DSP-1",
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

/// A business refusal: every command error of the domain has a stable machine-readable
/// code (for example `consolidation.weight_limit`) and, where one applies, the rule it enforces.
///
/// Codes are a contract with API clients: never rename one, add a new one instead.
pub trait Refusal: std::error::Error {
    /// The stable code, `area.reason` in snake case.
    fn code(&self) -> &'static str;
    /// The rule this refusal enforces; `None` only for refusals of the lifecycle itself
    /// (a command that makes no sense in the aggregate's current state).
    fn rule(&self) -> Option<Rule>;
}
