//! The Member aggregate (cqrs-es type `member`): a person registered with the warehouse under
//! a suite code, their identity verification, standing, settings and withdrawal.
//!
//! Rules owned here: MEM-1 (registration, suite code, forwarding-only address), MEM-2
//! (identity documents and their expiry), MEM-3 (minors need a guardian's consent), MEM-4
//! (states), MEM-5 (suspension causes, failed logins), MEM-6 (Auto Pack), MEM-7 (Auto Ship and
//! its lapse), MEM-8 (withdrawal, member side), MEM-9 (automatic closure, cn-agency), ACC-3
//! (member side: suspension for rejected top-ups) and TIM-1 for every date decided here.
//! Other aggregates learn where a member stands from [`Member::standing`], passed into their
//! commands as a [`MemberStanding`].
//!
//! Decisions where the sources leave room (each proved by a test):
//! - **States (MEM-4).** Verification is kept apart from the lifecycle: an *active* member is
//!   `Registered` (unverified) or `Verified` depending on its document on the day asked, so a
//!   document that expires makes the member unverified even before the daily job records it
//!   (MEM-2). A registered, not yet verified member can be suspended too (failed logins, a
//!   prohibited item among parcels it may already receive); reinstatement returns the member
//!   to active, verified only if its document still is.
//! - **Several causes.** A suspended member suspended again for another cause collects the
//!   causes (each recorded with its reason, MEM-5); one reinstatement lifts them all.
//! - **Document expiry (MEM-2).** The expiry date is the last valid day: a document checked
//!   on it verifies, and the member is unverified from the next day.
//! - **Ages (MEM-3).** Full years on the local registration date; a 29 February birthday
//!   completes its year on 1 March in common years (Japanese Civil Code art. 143(2)).
//! - **Withdrawal while suspended (MEM-8).** Allowed: seed 001 lets the member end the
//!   service "at any time" (いつでも), and the refund at withdrawal is the only way the balance
//!   is ever returned (ACC-7). The request records the causes still in force.
//! - **Closure (MEM-8).** `Close` follows the refund the charge account recorded; when to
//!   issue it (seed 001 closes the account a month after the refund) is the caller's schedule.
//! - **Daily jobs** (`CheckDocumentExpiry`, `LapseAutoShip`, `EvaluateAutoClosure`) emit nothing
//!   when nothing is due, and nothing on a closed member. Toggles already in the asked state
//!   (`SetAutoPack` twice) emit nothing. A charge account reporting rejected top-ups again for
//!   a member already suspended for them emits nothing.
//! - **Suspended members** may not turn Auto Pack or Auto Ship on (they "request nothing",
//!   MEM-4) but may turn them off, log in, and withdraw.

mod calc;
mod command;
mod error;
mod event;
mod values;

pub use calc::{
    age_on, auto_closure_conditions, auto_closure_due_on, auto_ship_active_on, auto_ship_lapses_on,
    document_valid_on, is_minor_on,
};
pub use command::MemberCommand;
pub use error::MemberError;
pub use event::MemberEvent;
pub use values::{
    AutoClosureCondition, AutoClosureFacts, BalanceSign, DocumentKind, EmailAddress,
    GuardianConsent, IdentityDocument, NoticeLanguage, PersonName, RefundReference,
    SuspensionCause,
};

use crate::calendar::{add_days, add_months};
use crate::facts::{MemberStanding, StandingStatus};
use crate::ids::{MemberId, SuiteCode};
use crate::money::Money;
use crate::policy::{Policy, PolicyVersion};
use crate::Issued;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// A member, as its events left it. `Default` is the state before registration.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Member {
    /// Nothing has happened yet.
    #[default]
    Unregistered,
    /// Registered; where it stands is in the record's `status` and `verification`.
    Registered(Box<MemberRecord>),
}

/// Everything known about a registered member. Built only by [`Member::evolve`]; the event
/// stream, not this copy, is the truth.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MemberRecord {
    /// The member.
    pub member_id: MemberId,
    /// The personal warehouse address code (MEM-1).
    pub suite_code: SuiteCode,
    /// Full name.
    pub name: PersonName,
    /// Birth date.
    pub birth_date: NaiveDate,
    /// Contact address.
    pub email: EmailAddress,
    /// The guardian's consent given at registration as a minor (MEM-3).
    pub guardian_consent: Option<GuardianConsent>,
    /// The warehouse's local date of registration.
    pub registered_on: NaiveDate,
    /// The lifecycle state (MEM-4).
    pub status: MemberStatus,
    /// The identity document that verified the member and has not been recorded as lapsed.
    pub verification: Option<Verification>,
    /// Failed logins in a row (MEM-5).
    pub failed_logins: u32,
    /// The last successful login (MEM-9).
    pub last_login_at: Option<DateTime<Utc>>,
    /// Auto Pack set (MEM-6).
    pub auto_pack: bool,
    /// Auto Ship, while set and not recorded as lapsed (MEM-7).
    pub auto_ship: Option<AutoShip>,
    /// The member's personal data was erased (issue #10): `name`, `birth_date`, `email` and
    /// the guardian's consent hold the stand-ins of `crate::personal`.
    #[serde(default)]
    pub personal_data_erased: bool,
    /// The language the member chose to be told things in; the server's default when none.
    #[serde(default)]
    pub notice_language: Option<NoticeLanguage>,
}

/// The lifecycle of MEM-4. Verified or not is [`MemberRecord::verification`], checked on a date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MemberStatus {
    /// In good standing (verified or not).
    Active,
    /// Suspended for one or more causes, in the order recorded; never empty.
    Suspended {
        /// The causes in force.
        causes: Vec<SuspensionCause>,
    },
    /// Withdrawal requested; closure waits for the refund (MEM-8).
    Withdrawing {
        /// The day of the request.
        requested_on: NaiveDate,
    },
    /// Closed, on request or automatically.
    Closed {
        /// The day of closure.
        closed_on: NaiveDate,
    },
}

/// A verified identity document (MEM-2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verification {
    /// The document checked.
    pub document: IdentityDocument,
    /// Its last valid day.
    pub expires_on: NaiveDate,
    /// The day it was checked.
    pub verified_on: NaiveDate,
}

/// Auto Ship as set (MEM-7).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AutoShip {
    /// Highest quote paid without asking.
    pub limit: Money,
    /// The day it was last set.
    pub set_on: NaiveDate,
    /// The day it was last used.
    pub last_used_on: Option<NaiveDate>,
    /// The first day it is no longer active unless used again, as decided when set or used.
    pub lapses_on: NaiveDate,
    /// The policy that decided `lapses_on`.
    pub policy: PolicyVersion,
}

impl Member {
    /// Decides what a command does to this member: the events to record, or why not.
    pub fn decide(
        &self,
        cmd: Issued<MemberCommand>,
        policy: &Policy,
    ) -> Result<Vec<MemberEvent>, MemberError> {
        let at = cmd.at;
        match (self, cmd.command) {
            (
                Member::Unregistered,
                MemberCommand::Register {
                    member_id,
                    suite_code,
                    name,
                    birth_date,
                    email,
                    guardian_consent,
                    forwarding_only_accepted,
                },
            ) => {
                let registered_on = policy.local_date(at);
                if !forwarding_only_accepted {
                    return Err(MemberError::ForwardingOnlyNotAccepted);
                }
                let age =
                    age_on(birth_date, registered_on).ok_or(MemberError::BirthDateInFuture {
                        birth_date,
                        registered_on,
                    })?;
                let age_of_majority = policy.member.age_of_majority;
                let minor = age < age_of_majority;
                if minor && guardian_consent.is_none() {
                    return Err(MemberError::GuardianConsentRequired {
                        age,
                        age_of_majority,
                    });
                }
                Ok(vec![MemberEvent::Registered {
                    member_id,
                    suite_code,
                    name,
                    birth_date,
                    email,
                    age_on_registration: age,
                    minor,
                    guardian_consent,
                    forwarding_only_accepted,
                    registered_at: at,
                    registered_on,
                    policy: policy.version(),
                }])
            }
            (Member::Unregistered, _) => Err(MemberError::NotRegistered),
            (Member::Registered(member), command) => member.decide(command, at, policy),
        }
    }

    /// Applies an event. Cannot fail; events arrive in the order they were decided.
    pub fn evolve(&mut self, event: MemberEvent) {
        match (self, event) {
            (
                this,
                MemberEvent::Registered {
                    member_id,
                    suite_code,
                    name,
                    birth_date,
                    email,
                    guardian_consent,
                    registered_on,
                    ..
                },
            ) => {
                *this = Member::Registered(Box::new(MemberRecord {
                    member_id,
                    suite_code,
                    name,
                    birth_date,
                    email,
                    guardian_consent,
                    registered_on,
                    status: MemberStatus::Active,
                    verification: None,
                    failed_logins: 0,
                    last_login_at: None,
                    auto_pack: false,
                    auto_ship: None,
                    personal_data_erased: false,
                    notice_language: None,
                }));
            }
            (Member::Registered(member), event) => member.evolve(event),
            // Only `Registered` is ever decided for an unregistered member.
            (Member::Unregistered, _) => {}
        }
    }

    /// The registered member's record.
    pub fn record(&self) -> Option<&MemberRecord> {
        match self {
            Member::Registered(member) => Some(member),
            Member::Unregistered => None,
        }
    }

    /// Where the member stands on the warehouse's local date `today`, as other aggregates
    /// receive it (MEM-2, MEM-4, MEM-6, MEM-7); `None` before registration. A document past
    /// its expiry date reports `Unverified` even before `VerificationLapsed` is recorded, and
    /// Auto Ship past its lapse date reports no limit even before `AutoShipLapsed`.
    pub fn standing(&self, today: NaiveDate) -> Option<MemberStanding> {
        self.record().map(|member| member.standing(today))
    }
}

impl MemberRecord {
    /// See [`Member::standing`].
    pub fn standing(&self, today: NaiveDate) -> MemberStanding {
        let status = match &self.status {
            MemberStatus::Active if self.is_verified_on(today) => StandingStatus::Verified,
            MemberStatus::Active => StandingStatus::Unverified,
            MemberStatus::Suspended { .. } => StandingStatus::Suspended,
            MemberStatus::Withdrawing { .. } => StandingStatus::Withdrawing,
            MemberStatus::Closed { .. } => StandingStatus::Closed,
        };
        MemberStanding {
            member_id: self.member_id.clone(),
            status,
            auto_pack: self.auto_pack,
            auto_ship_limit: self.auto_ship_limit_on(today),
        }
    }

    /// True when a recorded document is valid on `today` (MEM-2).
    pub fn is_verified_on(&self, today: NaiveDate) -> bool {
        self.verification
            .is_some_and(|v| document_valid_on(v.expires_on, today))
    }

    /// The Auto Ship limit when Auto Ship is set and still active on `today` (MEM-7).
    pub fn auto_ship_limit_on(&self, today: NaiveDate) -> Option<Money> {
        self.auto_ship
            .as_ref()
            .filter(|ship| today < ship.lapses_on)
            .map(|ship| ship.limit)
    }

    /// The causes of suspension in force; empty when not suspended.
    pub fn suspension_causes(&self) -> &[SuspensionCause] {
        match &self.status {
            MemberStatus::Suspended { causes } => causes,
            _ => &[],
        }
    }

    fn decide(
        &self,
        command: MemberCommand,
        at: DateTime<Utc>,
        policy: &Policy,
    ) -> Result<Vec<MemberEvent>, MemberError> {
        use MemberCommand as C;
        use MemberStatus as S;
        let today = policy.local_date(at);
        match (&self.status, command) {
            (_, C::Register { .. }) => Err(MemberError::AlreadyRegistered),

            // Erasure of personal data, after closure and the retention period (issue #10).
            (S::Closed { .. }, C::ErasePersonalData) if self.personal_data_erased => {
                Err(MemberError::AlreadyErased)
            }
            (S::Closed { closed_on }, C::ErasePersonalData) => {
                let retained_until =
                    add_months(*closed_on, policy.member.personal_data_retention_months);
                if today <= retained_until {
                    return Err(MemberError::RetentionNotPassed {
                        closed_on: *closed_on,
                        retained_until,
                    });
                }
                Ok(vec![MemberEvent::PersonalDataErased {
                    closed_on: *closed_on,
                    retained_until,
                    erased_on: today,
                    policy: policy.version(),
                }])
            }
            (_, C::ErasePersonalData) => Err(MemberError::NotClosed),

            // A closed member only lets the daily jobs pass by.
            (
                S::Closed { .. },
                C::CheckDocumentExpiry | C::LapseAutoShip | C::EvaluateAutoClosure { .. },
            ) => Ok(vec![]),
            (S::Closed { .. }, _) => Err(MemberError::Closed),

            // Identity (MEM-2).
            (S::Withdrawing { .. }, C::VerifyIdentity { .. }) => Err(MemberError::Withdrawing),
            (
                _,
                C::VerifyIdentity {
                    document,
                    expires_on,
                },
            ) => {
                if let Some(missing) = document.missing_part() {
                    return Err(MemberError::DocumentIncomplete { missing });
                }
                if !document_valid_on(expires_on, today) {
                    return Err(MemberError::DocumentExpired {
                        expires_on,
                        checked_on: today,
                    });
                }
                Ok(vec![MemberEvent::IdentityVerified {
                    document,
                    expires_on,
                    verified_on: today,
                }])
            }
            (_, C::CheckDocumentExpiry) => Ok(match self.verification {
                Some(v) if !document_valid_on(v.expires_on, today) => {
                    vec![MemberEvent::VerificationLapsed {
                        document: v.document.kind(),
                        expired_on: v.expires_on,
                        unverified_from: add_days(v.expires_on, 1),
                    }]
                }
                _ => vec![],
            }),

            // Suspension and reinstatement (MEM-4, MEM-5, ACC-3).
            (
                S::Withdrawing { .. },
                C::Suspend { .. } | C::SuspendForRejectedTopUps { .. } | C::Reinstate { .. },
            ) => Err(MemberError::Withdrawing),
            (_, C::Suspend { cause, reason }) => {
                let reason = reason.trim();
                if reason.is_empty() {
                    return Err(MemberError::ReasonMissing);
                }
                if self.suspension_causes().contains(&cause) {
                    return Err(MemberError::AlreadySuspended { cause });
                }
                Ok(vec![suspended(cause, reason.to_owned(), today, policy)])
            }
            (
                _,
                C::SuspendForRejectedTopUps {
                    account_id,
                    consecutive_rejections,
                },
            ) => {
                let limit = policy.member.rejected_top_ups_before_suspension;
                if consecutive_rejections < limit {
                    return Err(MemberError::TopUpRejectionsBelowLimit {
                        reported: consecutive_rejections,
                        limit,
                    });
                }
                if self
                    .suspension_causes()
                    .contains(&SuspensionCause::RejectedTopUps)
                {
                    return Ok(vec![]);
                }
                let reason = format!(
                    "{consecutive_rejections} consecutive rejected top-up applications on \
                     account {account_id} (limit {limit})"
                );
                Ok(vec![suspended(
                    SuspensionCause::RejectedTopUps,
                    reason,
                    today,
                    policy,
                )])
            }
            (S::Suspended { causes }, C::Reinstate { reason }) => {
                let reason = reason.trim();
                if reason.is_empty() {
                    return Err(MemberError::ReasonMissing);
                }
                Ok(vec![MemberEvent::Reinstated {
                    reason: reason.to_owned(),
                    lifted_causes: causes.clone(),
                    reinstated_on: today,
                }])
            }
            (_, C::Reinstate { .. }) => Err(MemberError::NotSuspended),

            // Logins (MEM-5, MEM-9).
            (status, C::RecordFailedLogin) => {
                let failures = self.failed_logins.saturating_add(1);
                let limit = policy.member.failed_logins_before_suspension;
                let mut events = vec![MemberEvent::LoginFailed {
                    at,
                    in_a_row: failures,
                    limit: Some(limit),
                }];
                let may_suspend = matches!(status, S::Active | S::Suspended { .. })
                    && !self
                        .suspension_causes()
                        .contains(&SuspensionCause::FailedLogins);
                if failures >= limit && may_suspend {
                    let reason = format!("{failures} failed logins in a row (limit {limit})");
                    events.push(suspended(
                        SuspensionCause::FailedLogins,
                        reason,
                        today,
                        policy,
                    ));
                }
                Ok(events)
            }
            (_, C::RecordSuccessfulLogin) => Ok(vec![MemberEvent::LoggedIn { at }]),

            // Settings (MEM-6, MEM-7): a suspended or withdrawing member turns nothing on.
            (S::Suspended { causes }, C::SetAutoPack | C::SetAutoShip { .. }) => {
                Err(MemberError::Suspended {
                    causes: causes.clone(),
                })
            }
            (
                S::Withdrawing { .. },
                C::SetAutoPack | C::SetAutoShip { .. } | C::RecordAutoShipUse { .. },
            ) => Err(MemberError::Withdrawing),
            (_, C::ChooseNoticeLanguage { language }) if self.notice_language == Some(language) => {
                Ok(vec![])
            }
            (_, C::ChooseNoticeLanguage { language }) => {
                Ok(vec![MemberEvent::NoticeLanguageChosen {
                    language,
                    chosen_on: today,
                }])
            }
            (_, C::SetAutoPack) if self.auto_pack => Ok(vec![]),
            (_, C::SetAutoPack) => Ok(vec![MemberEvent::AutoPackSet { set_on: today }]),
            (_, C::UnsetAutoPack) if !self.auto_pack => Ok(vec![]),
            (_, C::UnsetAutoPack) => Ok(vec![MemberEvent::AutoPackUnset { unset_on: today }]),
            (_, C::SetAutoShip { limit }) => {
                if limit.currency != policy.billing_currency {
                    return Err(MemberError::AutoShipLimitCurrency {
                        expected: policy.billing_currency,
                        found: limit.currency,
                    });
                }
                if !limit.is_positive() {
                    return Err(MemberError::AutoShipLimitNotPositive { limit });
                }
                Ok(vec![MemberEvent::AutoShipSet {
                    limit,
                    set_on: today,
                    lapses_on: auto_ship_lapses_on(
                        today,
                        None,
                        policy.member.auto_ship_lapse_months,
                    ),
                    policy: policy.version(),
                }])
            }
            (_, C::UnsetAutoShip) => Ok(match self.auto_ship {
                Some(_) => vec![MemberEvent::AutoShipUnset { unset_on: today }],
                None => vec![],
            }),
            (
                _,
                C::RecordAutoShipUse {
                    shipment_id,
                    amount,
                },
            ) => {
                let ship = self
                    .auto_ship
                    .as_ref()
                    .filter(|ship| today < ship.lapses_on)
                    .ok_or(MemberError::AutoShipNotActive)?;
                if amount.currency != ship.limit.currency {
                    return Err(MemberError::AutoShipLimitCurrency {
                        expected: ship.limit.currency,
                        found: amount.currency,
                    });
                }
                if amount.amount > ship.limit.amount {
                    return Err(MemberError::AutoShipOverLimit {
                        amount,
                        limit: ship.limit,
                    });
                }
                Ok(vec![MemberEvent::AutoShipUsed {
                    shipment_id,
                    amount,
                    limit: ship.limit,
                    used_on: today,
                    lapses_on: auto_ship_lapses_on(
                        ship.set_on,
                        Some(today),
                        policy.member.auto_ship_lapse_months,
                    ),
                    policy: policy.version(),
                }])
            }
            (_, C::LapseAutoShip) => Ok(match &self.auto_ship {
                Some(ship) if today >= ship.lapses_on => vec![MemberEvent::AutoShipLapsed {
                    set_on: ship.set_on,
                    last_used_on: ship.last_used_on,
                    lapsed_on: ship.lapses_on,
                    policy: ship.policy.clone(),
                }],
                _ => vec![],
            }),

            // Withdrawal and closure (MEM-8, MEM-9).
            (S::Withdrawing { .. }, C::RequestWithdrawal) => Err(MemberError::AlreadyWithdrawing),
            (_, C::RequestWithdrawal) => Ok(vec![MemberEvent::WithdrawalRequested {
                requested_on: today,
                suspension_causes: self.suspension_causes().to_vec(),
                disposal_fee_per_item: policy.member.withdrawal_disposal_fee_per_item,
                policy: policy.version(),
            }]),
            (S::Withdrawing { .. }, C::Close { refund_reference }) => {
                Ok(vec![MemberEvent::Closed {
                    refund_reference,
                    closed_on: today,
                }])
            }
            (_, C::Close { .. }) => Err(MemberError::NotWithdrawing),
            (S::Withdrawing { .. }, C::EvaluateAutoClosure { .. }) => Ok(vec![]),
            (_, C::EvaluateAutoClosure { facts }) => {
                let Some(auto_closure) = &policy.member.auto_closure else {
                    return Ok(vec![]);
                };
                let last_login_on = self.last_login_at.map(|t| policy.local_date(t));
                let conditions = auto_closure_conditions(
                    auto_closure,
                    self.registered_on,
                    last_login_on,
                    &facts,
                    today,
                );
                if conditions.is_empty() {
                    return Ok(vec![]);
                }
                Ok(vec![MemberEvent::AutoClosed {
                    conditions,
                    facts,
                    closed_on: today,
                    policy: policy.version(),
                }])
            }
        }
    }

    fn evolve(&mut self, event: MemberEvent) {
        match event {
            // Handled by `Member::evolve`; a second registration is never decided.
            MemberEvent::Registered { .. } => {}
            MemberEvent::IdentityVerified {
                document,
                expires_on,
                verified_on,
            } => {
                self.verification = Some(Verification {
                    document,
                    expires_on,
                    verified_on,
                });
            }
            MemberEvent::VerificationLapsed { .. } => self.verification = None,
            MemberEvent::Suspended { cause, .. } => match &mut self.status {
                MemberStatus::Suspended { causes } => causes.push(cause),
                status => {
                    *status = MemberStatus::Suspended {
                        causes: vec![cause],
                    }
                }
            },
            MemberEvent::Reinstated { .. } => {
                self.status = MemberStatus::Active;
                self.failed_logins = 0;
            }
            MemberEvent::LoginFailed { in_a_row, .. } => self.failed_logins = in_a_row,
            MemberEvent::LoggedIn { at } => {
                self.failed_logins = 0;
                self.last_login_at = Some(at);
            }
            MemberEvent::NoticeLanguageChosen { language, .. } => {
                self.notice_language = Some(language)
            }
            MemberEvent::AutoPackSet { .. } => self.auto_pack = true,
            MemberEvent::AutoPackUnset { .. } => self.auto_pack = false,
            MemberEvent::AutoShipSet {
                limit,
                set_on,
                lapses_on,
                policy,
            } => {
                let last_used_on = self.auto_ship.as_ref().and_then(|s| s.last_used_on);
                self.auto_ship = Some(AutoShip {
                    limit,
                    set_on,
                    last_used_on,
                    lapses_on,
                    policy,
                });
            }
            MemberEvent::AutoShipUsed {
                used_on,
                lapses_on,
                policy,
                ..
            } => {
                if let Some(ship) = &mut self.auto_ship {
                    ship.last_used_on = Some(used_on);
                    ship.lapses_on = lapses_on;
                    ship.policy = policy;
                }
            }
            MemberEvent::AutoShipUnset { .. } | MemberEvent::AutoShipLapsed { .. } => {
                self.auto_ship = None;
            }
            MemberEvent::WithdrawalRequested { requested_on, .. } => {
                self.status = MemberStatus::Withdrawing { requested_on };
            }
            MemberEvent::Closed { closed_on, .. } | MemberEvent::AutoClosed { closed_on, .. } => {
                self.status = MemberStatus::Closed { closed_on };
            }
            MemberEvent::PersonalDataErased { .. } => self.personal_data_erased = true,
        }
    }
}

/// The suspension event; `reason` is already checked or generated.
fn suspended(
    cause: SuspensionCause,
    reason: String,
    today: NaiveDate,
    policy: &Policy,
) -> MemberEvent {
    MemberEvent::Suspended {
        cause,
        reason,
        suspended_on: today,
        policy: policy.version(),
    }
}

crate::event_sourced!(Member, "member", MemberCommand, MemberEvent, MemberError);
