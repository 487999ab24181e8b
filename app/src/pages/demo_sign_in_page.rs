use crate::api::session::{demo_personas, DemoSignIn};
use crate::components::error_notice::ErrorNotice;
use crate::domain::Persona;
use crate::session_context::SessionContext;
use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::Title;

/// `/demo/sign-in`: pick a persona. Exists only in demo mode.
#[component]
pub fn DemoSignInPage() -> impl IntoView {
    let personas = Resource::new(|| (), |_| demo_personas());
    let sign_in = expect_context::<SessionContext>().sign_in;
    view! {
        <Title text="Sign in to the demo" />
        <div class="mx-auto max-w-3xl">
            <h1 class="text-xl font-semibold tracking-tight">"Sign in to the demo"</h1>
            <p class="mt-1 text-sm text-slate-600">
                "Pick who you want to be. Each persona has the roles a real person in that job would have."
            </p>
            {move || sign_in.value().get().and_then(Result::err).map(|error| view! { <div class="mt-4"><ErrorNotice error /></div> })}
            <Suspense fallback=|| view! { <p class="mt-6 text-sm text-slate-500" aria-busy="true">"Loading personas…"</p> }>
                {move || Suspend::new(async move {
                    match personas.await {
                        Ok(list) if list.is_empty() => view! {
                            <p class="mt-6 text-sm text-slate-600">"No demo personas are seeded."</p>
                        }.into_any(),
                        Ok(list) => view! {
                            <ul class="mt-6 grid gap-3 sm:grid-cols-2">
                                {list.into_iter().map(|persona| view! { <PersonaCard persona sign_in /> }).collect_view()}
                            </ul>
                        }.into_any(),
                        Err(error) => view! { <div class="mt-6"><ErrorNotice error /></div> }.into_any(),
                    }
                })}
            </Suspense>
        </div>
    }
}

#[component]
fn PersonaCard(persona: Persona, sign_in: ServerAction<DemoSignIn>) -> impl IntoView {
    let name = persona.display_name.to_string();
    view! {
        <li>
            <ActionForm action=sign_in>
                <input type="hidden" name="login" value=persona.login.clone() />
                <button
                    type="submit"
                    class="flex w-full items-center gap-3 rounded-lg border border-slate-200 px-4 py-3 text-left hover:border-indigo-300 hover:bg-indigo-50/40 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-indigo-600 disabled:opacity-60"
                    disabled=move || sign_in.pending().get()
                >
                    <span
                        aria-hidden="true"
                        class="flex h-9 w-9 shrink-0 items-center justify-center rounded-full bg-slate-900 text-sm font-semibold text-white"
                    >
                        {crate::components::initials(&name)}
                    </span>
                    <span class="min-w-0">
                        // Read out as "Sign in as Priya Raman QA engineer qa":
                        // the visible words are all part of the name.
                        <span class="sr-only">"Sign in as "</span>
                        <span class="block font-medium text-slate-900">{name.clone()}</span>
                        <span class="block text-sm text-slate-600">{persona.title.clone()}</span>
                        <span class="block font-mono text-xs text-slate-500">{persona.role.to_string()}</span>
                    </span>
                </button>
            </ActionForm>
        </li>
    }
}
