"""One module per action module: the Step Functions forms of its actions, registered in states.FORMS (or their
refusal in states.REFUSED) by action name; registry.py imports them all."""
