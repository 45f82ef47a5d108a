//! Jupyter kernels: discovery, launch, the wire protocol, and notebook execution.
