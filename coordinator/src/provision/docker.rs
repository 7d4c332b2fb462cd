//! Docker provisioner (being written).
