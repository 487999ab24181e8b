//! A small set of line icons drawn on a 16-unit grid. Icons always sit next
//! to words: they add recognition, never carry meaning alone.

use leptos::prelude::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IconKind {
    Bolt,
    Approval,
    Snowflake,
    Hand,
    Dashed,
    Clock,
    Alert,
    Branch,
    Tag,
    People,
    Flask,
    Box,
    Gate,
    Check,
    Cross,
    Lock,
    Minus,
}

impl IconKind {
    const ALL: [IconKind; 17] = [
        IconKind::Bolt,
        IconKind::Approval,
        IconKind::Snowflake,
        IconKind::Hand,
        IconKind::Dashed,
        IconKind::Clock,
        IconKind::Alert,
        IconKind::Branch,
        IconKind::Tag,
        IconKind::People,
        IconKind::Flask,
        IconKind::Box,
        IconKind::Gate,
        IconKind::Check,
        IconKind::Cross,
        IconKind::Lock,
        IconKind::Minus,
    ];

    /// The id of its symbol in the page's sprite.
    fn id(self) -> &'static str {
        match self {
            IconKind::Bolt => "i-bolt",
            IconKind::Approval => "i-approval",
            IconKind::Snowflake => "i-snow",
            IconKind::Hand => "i-hand",
            IconKind::Dashed => "i-dashed",
            IconKind::Clock => "i-clock",
            IconKind::Alert => "i-alert",
            IconKind::Branch => "i-branch",
            IconKind::Tag => "i-tag",
            IconKind::People => "i-people",
            IconKind::Flask => "i-flask",
            IconKind::Box => "i-box",
            IconKind::Gate => "i-gate",
            IconKind::Check => "i-check",
            IconKind::Cross => "i-cross",
            IconKind::Lock => "i-lock",
            IconKind::Minus => "i-minus",
        }
    }

    fn path(self) -> &'static str {
        match self {
            IconKind::Bolt => "M9 1.5 3.5 9H8l-1 5.5L12.5 7H8z",
            IconKind::Approval => "M8 1.5 2.5 3.5v4c0 3.3 2.3 5.9 5.5 7 3.2-1.1 5.5-3.7 5.5-7v-4zM5.5 8l2 2 3.5-4",
            IconKind::Snowflake => "M8 1v14M2 4.5l12 7M14 4.5l-12 7M6 2.5 8 4l2-1.5M6 13.5 8 12l2 1.5",
            IconKind::Hand => "M5 8V3.5a1 1 0 0 1 2 0V7m0-4.5a1 1 0 0 1 2 0V7m0-3.5a1 1 0 0 1 2 0V8m0-2a1 1 0 0 1 2 0v3.5c0 3-2 5-5 5-2 0-3.2-.8-4.3-2.5L2.5 9.2a1 1 0 0 1 1.6-1.2L5 9",
            IconKind::Dashed => "M8 2a6 6 0 0 1 2.3.5M13.5 5.7A6 6 0 0 1 14 8m-.5 2.3a6 6 0 0 1-1.3 2M10.3 13.5A6 6 0 0 1 8 14m-2.3-.5a6 6 0 0 1-2-1.3M2.5 10.3A6 6 0 0 1 2 8m.5-2.3a6 6 0 0 1 1.3-2M5.7 2.5",
            IconKind::Clock => "M8 2a6 6 0 1 0 0 12A6 6 0 0 0 8 2zm0 3v3.5l2.5 1.5",
            IconKind::Alert => "M8 1.8 1.2 13.5h13.6zM8 6v3.5M8 11.5v.5",
            IconKind::Branch => "M4.5 2.5v11M4.5 13.5a1.5 1.5 0 1 0 0-.1M11.5 5.5a1.5 1.5 0 1 0 0-3 1.5 1.5 0 0 0 0 3zm0 0c0 3-7 2.5-7 6",
            IconKind::Tag => "M2 2h5.5L14 8.5 8.5 14 2 7.5zM5 5h.01",
            IconKind::People => "M6 7a2.5 2.5 0 1 0 0-5 2.5 2.5 0 0 0 0 5zM1.5 14c0-2.5 2-4.5 4.5-4.5s4.5 2 4.5 4.5M11 2.2a2.5 2.5 0 0 1 0 4.6M12.5 9.8c1.3.6 2 2.2 2 4.2",
            IconKind::Flask => "M6 1.5h4M6.5 1.5v4.5L2.5 13a1 1 0 0 0 .9 1.5h9.2a1 1 0 0 0 .9-1.5l-4-7V1.5M4.5 10h7",
            IconKind::Box => "M8 1.5 14 4.5v7L8 14.5 2 11.5v-7zM2 4.5l6 3 6-3M8 7.5v7",
            IconKind::Gate => "M2 14.5V5l6-3.5L14 5v9.5M5 14.5V8h6v6.5M8 8v6.5",
            IconKind::Check => "M3 8.5l3 3 7-7",
            IconKind::Cross => "M4 4l8 8M12 4l-8 8",
            IconKind::Lock => "M4.5 7V5a3.5 3.5 0 0 1 7 0v2M3.5 7h9v7h-9z",
            IconKind::Minus => "M3.5 8h9",
        }
    }
}

/// Every icon's drawing, once per page (hidden); [`Icon`]s refer to it, so
/// a board of hundreds of icons sends each path once.
#[component]
pub fn IconSprite() -> impl IntoView {
    view! {
        <svg aria-hidden="true" width="0" height="0" class="absolute">
            {IconKind::ALL
                .into_iter()
                .map(|kind| view! { <symbol id=kind.id() viewBox="0 0 16 16"><path d=kind.path() /></symbol> })
                .collect_view()}
        </svg>
    }
}

/// An SVG icon from the page's sprite, hidden from assistive technology.
#[component]
pub fn Icon(kind: IconKind, #[prop(optional, into)] class: String) -> impl IntoView {
    // Stroke and fill come from the `icon` class (style/tailwind.css).
    let class = if class.is_empty() {
        "icon h-4 w-4 shrink-0".to_owned()
    } else {
        format!("icon {class}")
    };
    view! {
        <svg class=class aria-hidden="true">
            <use href=format!("#{}", kind.id()) />
        </svg>
    }
}
