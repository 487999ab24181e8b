//! Who is looking, shared by every page: the session resource and the
//! actions that change it (and so refetch it).

use crate::api::session::{viewer, DemoSignIn, SignOut};
use crate::error::AppError;
use crate::views::session::SessionInfo;
use leptos::prelude::*;

#[derive(Clone, Copy)]
pub struct SessionContext {
    pub info: Resource<Result<SessionInfo, AppError>>,
    pub sign_in: ServerAction<DemoSignIn>,
    pub sign_out: ServerAction<SignOut>,
}

impl SessionContext {
    /// Reads the session once per sign-in or sign-out, and offers it to
    /// every component below.
    pub fn provide() {
        let sign_in = ServerAction::<DemoSignIn>::new();
        let sign_out = ServerAction::<SignOut>::new();
        let info = Resource::new(
            move || (sign_in.version().get(), sign_out.version().get()),
            |_| viewer(),
        );
        provide_context(Self {
            info,
            sign_in,
            sign_out,
        });
    }
}
