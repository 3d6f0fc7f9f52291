"""The local web application: ``search serve``, its JSON API and its page.

A thin view over ``patentsim.search``: the routes call the library functions the commands
call, with the same parameters, and the page renders their answers.  Imported only by
``search serve`` (the other commands never load the web stack).
"""
