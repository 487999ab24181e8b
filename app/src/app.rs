//! The HTML shell, the top-level component and the routes.

use crate::components::app_shell::AppShell;
use crate::pages::{
    approvals_page::ApprovalsPage, audit_page::AuditPage, board_page::BoardPage,
    calendar_page::CalendarPage, cell_page::CellPage, delivery_page::DeliveryPage,
    demo_sign_in_page::DemoSignInPage, environments_page::EnvironmentsPage, home_page::HomePage,
    inventory_page::InventoryPage, not_found_page::NotFoundPage,
    notifications_page::NotificationsPage, prod_plan_page::ProdPlanPage,
    release_demo_page::ReleaseDemoPage, sign_in_page::SignInPage,
};
use crate::session_context::SessionContext;
use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Title};
use leptos_router::{
    components::{Route, Router, Routes},
    path, SsrMode,
};

/// The document around the app, rendered only on the server.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name="color-scheme" content="light" />
                <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
                <link rel="stylesheet" id="leptos" href=crate::assets::stylesheet_href(&options) />
                <AutoReload options=options.clone() />
                <HydrationScripts options islands=true />
                <MetaTags />
            </head>
            <body class="min-h-screen bg-white text-slate-900 antialiased">
                <App />
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    SessionContext::provide();
    // Every page renders completely on the server (SsrMode::Async), so it
    // works with JavaScript off; only its islands hydrate.
    view! {
        <Title formatter=|page: String| if page.is_empty() { "Gatehouse".to_owned() } else { format!("{page} · Gatehouse") } />
        <Router>
            <AppShell>
                <Routes fallback=NotFoundPage>
                    <Route path=path!("/") view=HomePage ssr=SsrMode::Async />
                    <Route path=path!("/board") view=BoardPage ssr=SsrMode::Async />
                    <Route path=path!("/board/:service/:environment") view=CellPage ssr=SsrMode::Async />
                    <Route path=path!("/environments") view=EnvironmentsPage ssr=SsrMode::Async />
                    <Route path=path!("/calendar") view=CalendarPage ssr=SsrMode::Async />
                    <Route path=path!("/approvals") view=ApprovalsPage ssr=SsrMode::Async />
                    <Route path=path!("/audit") view=AuditPage ssr=SsrMode::Async />
                    <Route path=path!("/notifications") view=NotificationsPage ssr=SsrMode::Async />
                    <Route path=path!("/inventory") view=InventoryPage ssr=SsrMode::Async />
                    <Route path=path!("/prod-plan") view=ProdPlanPage ssr=SsrMode::Async />
                    <Route path=path!("/release-demo") view=ReleaseDemoPage ssr=SsrMode::Async />
                    <Route path=path!("/delivery") view=DeliveryPage ssr=SsrMode::Async />
                    <Route path=path!("/sign-in") view=SignInPage ssr=SsrMode::Async />
                    <Route path=path!("/demo/sign-in") view=DemoSignInPage ssr=SsrMode::Async />
                </Routes>
            </AppShell>
        </Router>
    }
}
