"""Offramp notify: keeping officers, prosecutors and case managers informed, within the Golden Rule."""
