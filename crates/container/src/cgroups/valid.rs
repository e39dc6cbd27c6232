//! Limits that have been validated (chapter 4): [`ValidResources`], made only by
//! [`Resources::validated`], is what the drivers take, so that a driver cannot be handed
//! a value nobody checked and need not check it again ("parse, don't validate"). The
//! checks themselves are in `validate` (`Resources::validate`, `check_rules`); what a cgroup
//! version cannot do ([`Resources::supported`]) is asked where the version is known.

use std::ops::Deref;

use super::error::CgroupError;
use super::resources::{DeviceRule, Resources};
use super::validate::check_rules;
use super::validate::Ignored;

// ANCHOR: valid_resources
/// [`Resources`] whose every value is in the range the kernel accepts and whose device
/// rules the drivers can write: the proof that [`Resources::validated`] ran. It reads as
/// the limits it holds (`Deref`); it can be taken apart ([`ValidResources::into_inner`])
/// but not put together again without validating. Not `Deserialize`: JSON is read as
/// `Resources` and validated, where the error can name the field it came from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ValidResources(Resources);

impl Resources {
    /// Checks every value ([`Resources::validate`]) and the device rules
    /// ([`check_rules`]), and returns the limits as validated: the one check
    /// they get before a driver writes them. An invalid value is refused by its field
    /// name, before any cgroup is created or any file written.
    pub fn validated(self) -> Result<ValidResources, CgroupError> {
        self.validate()?;
        check_rules(&self.devices)?;
        Ok(ValidResources(self))
    }
}
// ANCHOR_END: valid_resources

impl ValidResources {
    /// The limits, no longer known to be valid.
    pub fn into_inner(self) -> Resources {
        self.0
    }

    /// [`Resources::drop_deprecated`] on validated limits. Still valid: it only takes
    /// fields out, and no check of one field depends on one it takes out.
    pub fn drop_deprecated(&mut self, leaf_weight_file: bool) -> Vec<Ignored> {
        self.0.drop_deprecated(leaf_weight_file)
    }

    /// The limits with their device rules between `first` and `last`, as a runtime wraps
    /// a configuration's rules in its own (runc: deny everything, then its defaults).
    /// The rules added are checked as [`Resources::validated`] checks rules (each rule
    /// is checked on its own, so a list of valid rules is valid); those already here
    /// are not checked again.
    pub fn wrap_devices(
        mut self,
        first: Option<DeviceRule>,
        last: Vec<DeviceRule>,
    ) -> Result<Self, CgroupError> {
        let added: Vec<DeviceRule> = first.iter().cloned().chain(last.iter().cloned()).collect();
        Resources { devices: added, ..Resources::default() }.validated()?;
        let given = std::mem::take(&mut self.0.devices);
        self.0.devices = first.into_iter().chain(given).chain(last).collect();
        Ok(self)
    }
}

impl Deref for ValidResources {
    type Target = Resources;

    fn deref(&self) -> &Resources {
        &self.0
    }
}

impl AsRef<Resources> for ValidResources {
    fn as_ref(&self) -> &Resources {
        &self.0
    }
}

impl PartialEq<Resources> for ValidResources {
    fn eq(&self, other: &Resources) -> bool {
        self.0 == *other
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cgroups::resources::Cpu;

    /// Only validation makes one: a bad value is refused by name, a good one kept whole.
    #[test]
    fn only_valid_limits_become_valid_resources() {
        let bad = Resources { cpu: Some(Cpu { shares: Some(1), ..Cpu::default() }), ..Resources::default() };
        assert!(matches!(bad.validated(), Err(CgroupError::InvalidResource { field: "cpu.shares", .. })));
        let odd = Resources {
            devices: vec![DeviceRule { major: Some(1), ..DeviceRule::deny_all() }],
            ..Resources::default()
        };
        assert!(matches!(odd.validated(), Err(CgroupError::InvalidEntry { .. })));
        let good =
            Resources { cpu: Some(Cpu { shares: Some(512), ..Cpu::default() }), ..Resources::default() };
        assert_eq!(good.clone().validated().unwrap(), good);
    }

    /// Wrapping keeps the given rules in the middle and checks the rules it adds.
    #[test]
    fn wrapping_checks_what_it_adds() {
        let own = DeviceRule::allow_char(Some(10), Some(229), "rwm");
        let valid = Resources { devices: vec![own.clone()], ..Resources::default() }.validated().unwrap();
        let last = vec![DeviceRule::allow_char(Some(1), Some(3), "rwm")];
        let wrapped = valid.clone().wrap_devices(Some(DeviceRule::deny_all()), last.clone()).unwrap();
        assert_eq!(wrapped.devices, [DeviceRule::deny_all(), own, last[0].clone()]);
        let bad = DeviceRule { access: Some("x".into()), ..DeviceRule::deny_all() };
        assert!(valid.wrap_devices(None, vec![bad]).is_err());
    }
}
