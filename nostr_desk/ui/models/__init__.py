"""Qt item models, kept apart from the widgets that show them."""
