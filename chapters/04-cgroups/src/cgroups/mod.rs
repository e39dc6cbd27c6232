//! `container::cgroups` with your drivers in place of the product's: `v1`, `v2` and
//! `files` are compiled from your files, everything else is re-exported from the product.

// The local `v1`, `v2` and `files` below shadow the product's modules of the same names.
#[allow(unused_imports)]
pub use bigbang_container::cgroups::*;

#[cfg(not(feature = "solution"))]
#[path = "../../../../exercises/04-cgroups/v1.rs"]
#[allow(unused_imports, unused_variables, unreachable_code, dead_code)]
pub mod v1;

#[cfg(feature = "solution")]
#[path = "../../../../solutions/04-cgroups/v1.rs"]
pub mod v1;

#[cfg(not(feature = "solution"))]
#[path = "../../../../exercises/04-cgroups/v2.rs"]
#[allow(unused_imports, unused_variables, unreachable_code, dead_code)]
pub mod v2;

#[cfg(feature = "solution")]
#[path = "../../../../solutions/04-cgroups/v2.rs"]
pub mod v2;

#[cfg(not(feature = "solution"))]
#[path = "../../../../exercises/04-cgroups/files.rs"]
#[allow(unused_imports, unused_variables, unreachable_code, dead_code)]
pub mod files;

#[cfg(feature = "solution")]
#[path = "../../../../solutions/04-cgroups/files.rs"]
pub mod files;
