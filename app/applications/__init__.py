"""The shared domain of an application: the questions as data, the answers and how they read,
and submission. Used by the public journey (`apply`), staff entry, the panel and the exports;
it has no blueprint and no views."""
